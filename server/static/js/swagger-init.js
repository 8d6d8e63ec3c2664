// Starts Swagger UI on the API docs page with the settings in #swagger-config (CSP: no inline code).
window.addEventListener("load", () => {
  const config = JSON.parse(document.getElementById("swagger-config").textContent);
  window.ui = SwaggerUIBundle(config);
});
