/* The place form shows the département and région of the territory as soon as it is
   chosen (without JavaScript they appear after saving). The territory autocomplete
   (select2) announces its changes as jQuery "change" events on the underlying select. */
"use strict";
(function () {
  function show(container, item) {
    if (!container) {
      return;
    }
    container.textContent = "";
    if (!item) {
      container.textContent = "-";
    } else if (item.url) {
      const link = document.createElement("a");
      link.href = item.url;
      link.textContent = item.name;
      container.append(link);
    } else {
      container.textContent = item.name;
    }
  }

  function update(select) {
    const departement = document.querySelector(".field-departement .readonly");
    const region = document.querySelector(".field-region .readonly");
    if (!select.value) {
      show(departement, null);
      show(region, null);
      return;
    }
    const url = new URL(select.dataset.territoryInfoUrl, window.location.href);
    url.searchParams.set("id", select.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (data) {
          show(departement, data.departement);
          show(region, data.region);
        }
      })
      .catch(() => {}); // Saving the form still fills them in.
  }

  function init() {
    const select = document.querySelector("select[data-territory-info-url]");
    if (!select) {
      return;
    }
    if (window.django && window.django.jQuery) {
      // jQuery handlers also receive native change events: one listener is enough.
      window.django.jQuery(select).on("change", () => update(select));
    } else {
      select.addEventListener("change", () => update(select));
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
