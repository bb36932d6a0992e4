// Maps of places (Leaflet, with Leaflet.markercluster): the map page, the framed map of
// partners' sites and the small maps of place and territory pages. Each map is an element
// with data-map="places" (markers from the JSON at data-src) or data-map="point" (one
// place at data-lat / data-lon). The outline of régions and départements comes from our
// own static files, so the map stays readable when no tile server answers. Without
// JavaScript the element stays hidden and the page's list says the same.
(function () {
  "use strict";
  if (!window.L || !window.fetch) return;

  var FRANCE = [[41.3, -5.2], [51.1, 9.6]];
  var outlines = {};
  var maps = [];

  function getJSON(url, signal) {
    return fetch(url, { headers: { Accept: "application/json" }, signal: signal }).then(
      function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      }
    );
  }

  function outline(url) {
    if (!outlines[url]) outlines[url] = getJSON(url);
    return outlines[url];
  }

  function drawOutline(map, el) {
    // Départements under the régions' thicker lines; neither takes clicks.
    var layers = [
      [el.dataset.departements, "map-outline map-outline-departement", 0.6],
      [el.dataset.regions, "map-outline map-outline-region", 1.4],
    ];
    layers.forEach(function (layer) {
      if (!layer[0]) return;
      outline(layer[0]).then(function (data) {
        var shape = L.geoJSON(data, {
          interactive: false,
          style: {
            className: layer[1],
            color: "#5b6577",
            weight: layer[2],
            fill: layer[2] < 1,
            fillColor: "#f3efe4",
            fillOpacity: el.dataset.tileUrl ? 0.15 : 1,
          },
        }).addTo(map);
        shape.bringToBack();
      }).catch(function () { /* no outline: the tiles, if any, still show */ });
    });
  }

  function markerIcon(precise) {
    return L.divIcon({
      className: "map-marker" + (precise ? " map-marker-precise" : ""),
      iconSize: [16, 16],
      iconAnchor: [8, 8],
      popupAnchor: [0, -8],
    });
  }

  function card(el, place, data) {
    // Built node by node: names come from the database, never parsed as HTML.
    var box = document.createElement("div");
    box.className = "map-card";
    var title = document.createElement("p");
    title.className = "map-card-title";
    var link = document.createElement("a");
    link.href = data.place_url.replace("{slug}", encodeURIComponent(place[3]));
    link.textContent = place[2];
    title.appendChild(link);
    box.appendChild(title);
    if (place[5].length) {
      var kinds = document.createElement("p");
      kinds.className = "meta";
      kinds.textContent = place[5].map(function (i) { return data.kinds[i]; }).join(", ");
      box.appendChild(kinds);
    }
    if (place[4]) {
      var where = document.createElement("p");
      where.className = "meta";
      where.textContent = place[4];
      box.appendChild(where);
    }
    if (!place[6]) {
      var approx = document.createElement("p");
      approx.className = "meta map-card-approximate";
      approx.textContent = el.dataset.textApproximate;
      box.appendChild(approx);
    }
    return box;
  }

  function status(el, text) {
    var line = el.parentNode && el.parentNode.querySelector(".map-live");
    if (!line) {
      line = document.createElement("p");
      line.className = "map-live visually-hidden";
      line.setAttribute("role", "status");
      el.parentNode.insertBefore(line, el.nextSibling);
    }
    line.textContent = text;
  }

  function loadPlaces(state) {
    var el = state.el;
    if (state.pending) state.pending.abort();
    var controller = window.AbortController ? new AbortController() : null;
    state.pending = controller;
    el.setAttribute("aria-busy", "true");
    status(el, el.dataset.textLoading);
    return getJSON(el.dataset.src, controller && controller.signal)
      .then(function (data) {
        var markers = data.places.map(function (place) {
          var marker = L.marker([place[0], place[1]], {
            icon: markerIcon(place[6]),
            title: place[2],
            alt: place[2],
            keyboard: true,
          });
          marker.bindPopup(function () { return card(el, place, data); });
          return marker;
        });
        state.cluster.clearLayers();
        state.cluster.addLayers(markers);
        el.dataset.markers = String(markers.length);
        el.dataset.unlocated = String(data.unlocated);
        if (markers.length) {
          state.map.fitBounds(state.cluster.getBounds(), { padding: [20, 20], maxZoom: 11 });
        } else if (el.dataset.lat) {
          state.map.setView([+el.dataset.lat, +el.dataset.lon], 9);
        } else {
          state.map.fitBounds(FRANCE);
        }
        status(el, markers.length + " " + el.dataset.textShown);
        el.removeAttribute("aria-busy");
        el.dispatchEvent(new CustomEvent("map:loaded", { bubbles: true, detail: data }));
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        el.removeAttribute("aria-busy");
        el.dataset.markers = "error";
        status(el, el.dataset.textFailed);
      });
  }

  function setup(el) {
    el.hidden = false;
    var map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.5 });
    map.fitBounds(FRANCE);
    if (el.dataset.tileUrl) {
      L.tileLayer(el.dataset.tileUrl, {
        attribution: el.dataset.tileAttribution,
        maxZoom: 18,
      }).addTo(map);
    } else {
      el.classList.add("map-no-tiles");
    }
    drawOutline(map, el);
    var state = { el: el, map: map, pending: null };
    if (el.dataset.map === "point") {
      var latlng = [+el.dataset.lat, +el.dataset.lon];
      var precise = el.dataset.precise === "1";
      L.marker(latlng, { icon: markerIcon(precise), title: el.dataset.label, alt: el.dataset.label })
        .addTo(map);
      map.setView(latlng, precise ? 13 : 10);
      el.dataset.markers = "1";
    } else {
      state.cluster = L.markerClusterGroup({
        chunkedLoading: true,
        showCoverageOnHover: false,
        maxClusterRadius: 50,
      });
      map.addLayer(state.cluster);
      loadPlaces(state);
    }
    maps.push(state);
    return state;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), setup);

  // The directory script swaps the filters and results in place (the map page includes
  // them): put the live map back where the new markup has its empty twin, and load the
  // markers of the new query.
  document.addEventListener("directory:updated", function () {
    maps.forEach(function (state) {
      if (state.el.isConnected) return;
      var fresh = document.getElementById(state.el.id);
      if (!fresh || !fresh.dataset.src) return;
      state.el.dataset.src = fresh.dataset.src;
      fresh.replaceWith(state.el);
      state.map.invalidateSize();
      loadPlaces(state);
    });
  });
})();
