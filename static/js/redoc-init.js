// Starts Redoc on the API docs page; the page carries the schema URL and settings as data
// attributes, since the Content-Security-Policy runs no inline script.
(function () {
  "use strict";
  const container = document.getElementById("redoc-container");
  const settings = JSON.parse(container.dataset.settings || "{}");
  window.Redoc.init(container.dataset.schemaUrl, settings, container);
})();
