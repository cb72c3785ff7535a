// Browsers and crawlers that ignore the page's <link rel="icon"> still
// request /favicon.ico, so it redirects to the SVG app icon (app/icon.svg).
export function GET(): Response {
  return new Response(null, {
    status: 308,
    headers: {
      Location: "/icon.svg",
      "Cache-Control": "public, max-age=86400",
    },
  });
}
