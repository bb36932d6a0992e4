// The comparison form. Without JavaScript the ticked boxes are sent as repeated "colonne"
// values and the view reads them; with it, they are joined into the shareable "colonnes"
// parameter.
(function () {
  "use strict";
  var form = document.querySelector(".compare-form");
  if (!form) {
    return;
  }
  form.addEventListener("submit", function () {
    var keys = Array.from(form.querySelectorAll("input.dimension:checked")).map(function (box) {
      return box.value;
    });
    form.querySelector("#id_colonnes").value = keys.join(",");
    form.querySelectorAll("input.dimension").forEach(function (box) {
      box.disabled = true;
    });
  });
})();
