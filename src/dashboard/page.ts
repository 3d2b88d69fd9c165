/**
 * The dashboard's HTML shell. Its URLs are relative, so it works wherever a host app mounts
 * kiln; the script and styles are separate assets (no inline code), which lets the page run
 * under a Content-Security-Policy that forbids inline scripts and styles.
 */
export function dashboardPage(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kiln dashboard</title>
<link rel="icon" type="image/svg+xml" href="dashboard/assets/favicon.svg?v=${version}">
<link rel="stylesheet" href="dashboard/assets/app.css?v=${version}">
<script type="module" src="dashboard/assets/app.js?v=${version}"></script>
</head>
<body>
<div id="app"><noscript>The kiln dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
}
