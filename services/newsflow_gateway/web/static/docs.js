// Starts Swagger UI (/docs) or ReDoc (/redoc) on the OpenAPI document named by the
// page. A file of its own, not an inline script, so the page CSP can forbid those.
(function () {
  "use strict";
  var swagger = document.getElementById("swagger-ui");
  var redoc = document.getElementById("redoc");
  if (swagger && window.SwaggerUIBundle) {
    window.SwaggerUIBundle({
      url: swagger.getAttribute("data-openapi-url"),
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    });
  }
  if (redoc && window.Redoc) {
    window.Redoc.init(
      redoc.getAttribute("data-openapi-url"),
      // Search runs in a worker made from a blob: URL, which the CSP refuses.
      { nonce: redoc.getAttribute("data-nonce"), disableSearch: true },
      redoc
    );
  }
})();
