/** The dashboard's icon: a flame on kiln's blue, as SVG so the executable carries it as text. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#3056d3"/>
<path fill="#fff" d="M16.6 4.5c.9 4.6 6.9 7.3 6.9 13.8a7.5 7.5 0 0 1-15 0c0-3.6 1.8-5.9 3.9-7.7-.1 2.6.9 4.2 2.6 5-.8-4.2-.1-8 1.6-11.1z"/>
<path fill="#ffb347" d="M16 27.3a3.6 3.6 0 0 1-3.6-3.6c0-2.2 1.6-3.4 2.9-4.7.3 1.6 1.4 2.4 2.4 2.9.9.5 1.9 1.1 1.9 1.8a3.6 3.6 0 0 1-3.6 3.6z"/>
</svg>
`;
