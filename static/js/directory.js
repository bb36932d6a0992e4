// Progressive enhancement of the directory: filters apply without a full page reload,
// the URL keeps the whole state (shareable, back button works). Without JavaScript the
// form submits normally.
(function () {
  "use strict";
  var container = document.getElementById("directory");
  if (!container || !window.fetch || !window.history.pushState) return;

  var pending = null;

  var typing = null;

  function load(url, push) {
    // The latest action wins: cancel a request in flight and a search still being typed.
    clearTimeout(typing);
    if (pending) pending.abort();
    pending = new AbortController();
    container.setAttribute("aria-busy", "true");
    return fetch(url, { headers: { "X-Requested-With": "fetch" }, signal: pending.signal })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("directory");
        if (!fresh) throw new Error("no directory in response");
        var focused = document.activeElement && document.activeElement.id;
        // Keep the filters panel (narrow screens) as the reader left it.
        var panel = document.getElementById("filters-panel");
        var panelOpen = panel && panel.open;
        container.innerHTML = fresh.innerHTML;
        var freshPanel = document.getElementById("filters-panel");
        if (freshPanel && panelOpen) freshPanel.open = true;
        container.dispatchEvent(new CustomEvent("directory:updated", { bubbles: true }));
        if (push) window.history.pushState({ directory: true }, "", url);
        if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
        container.removeAttribute("aria-busy");
      })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        window.location.href = url;  // fall back to a normal page load
      });
  }

  function formUrl(form) {
    var params = new URLSearchParams(new FormData(form));
    // Drop empty values so shared URLs stay short.
    Array.from(params.keys()).forEach(function (key) {
      if (!params.getAll(key).some(Boolean)) params.delete(key);
    });
    var query = params.toString();
    return window.location.pathname + (query ? "?" + query : "");
  }

  container.addEventListener("change", function (event) {
    var form = event.target.form;
    // A field without a name (the funder combobox's text box) sends nothing by itself.
    if (!form || form.id !== "directory-form" || !event.target.name || event.target.name === "q") return;
    load(formUrl(form), true);
  });
  container.addEventListener("input", function (event) {
    if (event.target.name !== "q") return;
    var form = event.target.form;
    clearTimeout(typing);
    typing = setTimeout(function () { load(formUrl(form), true); }, 350);
  });
  container.addEventListener("submit", function (event) {
    if (event.target.id !== "directory-form") return;
    event.preventDefault();
    load(formUrl(event.target), true);
  });
  container.addEventListener("click", function (event) {
    var link = event.target.closest("a");
    if (!link || !container.contains(link) || link.closest(".result-list")) return;
    if (link.getAttribute("href").charAt(0) !== "?") return;
    event.preventDefault();
    load(window.location.pathname + link.getAttribute("href"), true);
  });
  window.addEventListener("popstate", function () {
    load(window.location.href, false);
  });
})();

// "Compare" buttons: keep the selection (stored in the session) without leaving the page.
(function () {
  "use strict";
  var directory = document.getElementById("directory");
  if (!directory || !window.fetch) return;
  directory.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("compare-toggle")) return;
    event.preventDefault();
    var button = event.submitter || form.querySelector("button");
    var data = new FormData(form);
    data.set("action", button.value);
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    }).then(function (payload) {
      var chosen = payload.selection.indexOf(data.get("lieu")) !== -1;
      button.value = chosen ? "remove" : "add";
      button.setAttribute("aria-pressed", chosen ? "true" : "false");
      button.querySelector(".label").textContent = chosen ? button.dataset.on : button.dataset.off;
      var bar = document.getElementById("selection-bar");
      document.getElementById("selection-count").textContent = payload.selection.length;
      bar.hidden = payload.selection.length === 0;
    }).catch(function () { form.submit(); });
  }, true);
})();
