// The funder box of the directory as an ARIA 1.2 combobox: typing lists the funders whose
// name contains the text (asked of the server, with how many places each would leave),
// arrow keys move through them, Enter or a click picks one. Without JavaScript the text box
// is sent as it is and the server resolves the name.
(function () {
  "use strict";
  if (!window.fetch) return;
  var counter = 0;

  function enhance(input) {
    if (input.dataset.enhanced) return;
    input.dataset.enhanced = "1";
    var form = input.form;
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = input.name;
    hidden.value = input.dataset.value || input.value;
    input.removeAttribute("name");
    input.after(hidden);

    var listbox = document.createElement("ul");
    listbox.id = input.id + "-listbox-" + (++counter);
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", input.labels && input.labels[0] ? input.labels[0].textContent : "");
    listbox.hidden = true;
    hidden.after(listbox);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    var active = -1;
    var timer = null;
    var request = null;

    function options() { return listbox.querySelectorAll("[role=option]"); }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var items = options();
      if (!items.length) return;
      active = (index + items.length) % items.length;
      items.forEach(function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(item) {
      input.value = item.dataset.label;
      hidden.value = item.dataset.value;
      close();
      // The directory's script listens to changes of the form's named fields.
      hidden.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function show(found) {
      // Answers may arrive after the reader moved in the list: keep the option they are on.
      var current = active >= 0 && options()[active] ? options()[active].dataset.value : null;
      listbox.textContent = "";
      found.forEach(function (option, i) {
        var item = document.createElement("li");
        item.id = listbox.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.value = option.value;
        item.dataset.label = option.label;
        var label = document.createElement("span");
        label.textContent = option.label;
        var count = document.createElement("span");
        count.className = "count";
        count.textContent = option.count;
        item.append(label, count);
        listbox.append(item);
      });
      active = -1;
      input.removeAttribute("aria-activedescendant");
      listbox.hidden = !found.length;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      var kept = found.findIndex(function (option) { return option.value === current; });
      if (kept >= 0) highlight(kept);
    }

    function lookUp() {
      var params = new URLSearchParams(new FormData(form));
      params.delete(hidden.name);
      params.set("terme", input.value);
      if (request) request.abort();
      request = new AbortController();
      fetch(input.dataset.optionsUrl + "?" + params.toString(), { signal: request.signal })
        .then(function (response) { return response.ok ? response.json() : { options: [] }; })
        .then(function (payload) { if (document.activeElement === input) show(payload.options); })
        .catch(function () {});
    }

    input.addEventListener("input", function () {
      hidden.value = input.value;  // free text until a funder is picked: the server resolves it
      clearTimeout(timer);
      timer = setTimeout(lookUp, 150);
    });
    input.addEventListener("focus", function () { if (!input.value) lookUp(); });
    input.addEventListener("keydown", function (event) {
      var open = !listbox.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open) { lookUp(); return; }
        highlight(active + 1);
      } else if (event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        highlight(active - 1);
      } else if (event.key === "Enter") {
        if (open && active >= 0) {
          event.preventDefault();
          choose(options()[active]);
        } else {
          close();
        }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); } else { input.value = ""; hidden.value = ""; }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    listbox.addEventListener("click", function (event) {
      var item = event.target.closest("[role=option]");
      if (item) choose(item);
    });
  }

  function enhanceAll() {
    document.querySelectorAll("input[data-combobox]").forEach(enhance);
  }
  enhanceAll();
  // The directory's script swaps the filters in after each change.
  document.addEventListener("directory:updated", enhanceAll);
})();
