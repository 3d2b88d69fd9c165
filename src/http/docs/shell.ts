/**
 * The Swagger UI page. Its URLs are relative, so it works wherever a host app mounts kiln.
 * The script lives in its own asset (no inline script) and, when the server wants a token,
 * asks for it once, keeps it for the browser tab and adds it to every request the UI makes.
 */
export const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kiln API</title>
<link rel="stylesheet" href="swagger/assets/swagger-ui.css">
<style>#kiln-auth{font:14px system-ui,sans-serif;padding:12px 20px;background:#fff3cd;display:none}</style>
</head>
<body>
<div id="kiln-auth"></div>
<div id="swagger-ui"></div>
<script src="swagger/assets/swagger-ui-bundle.js"></script>
<script src="swagger/assets/init.js"></script>
</body>
</html>
`;

export const SWAGGER_INIT_SCRIPT = `"use strict";
(function () {
  var KEY = "kiln.token";
  var notice = document.getElementById("kiln-auth");
  function token() { return sessionStorage.getItem(KEY) || ""; }
  function headers() { return token() ? { Authorization: "Bearer " + token() } : {}; }
  function say(text) { notice.textContent = text; notice.style.display = text ? "block" : "none"; }
  function load(retry) {
    fetch("swagger/json", { headers: headers() }).then(function (response) {
      if (response.status === 401) {
        var entered = window.prompt(retry ? "That token was refused. Token for this kiln server:" : "This kiln server needs a token:");
        if (entered) { sessionStorage.setItem(KEY, entered.trim()); return load(true); }
        say("This kiln server needs a token. Reload the page to enter it.");
        return;
      }
      if (!response.ok) { say("Could not load the API document: HTTP " + response.status); return; }
      return response.json().then(function (spec) {
        say("");
        window.ui = SwaggerUIBundle({
          spec: spec,
          dom_id: "#swagger-ui",
          deepLinking: true,
          requestInterceptor: function (request) {
            if (token()) request.headers.Authorization = "Bearer " + token();
            return request;
          }
        });
      });
    }).catch(function (error) { say("Could not reach the server: " + error.message); });
  }
  load(false);
})();
`;
