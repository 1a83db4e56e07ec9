/**
 * The one script the pages use (served at `/ui/assets/live.js`): a page with `data-live` asks
 * that URL for a stamp every 10 s and reloads when it changes, unless someone is typing in a form
 * on it. The page works without it; it only saves pressing reload during a huddle.
 */
export const LIVE_REFRESH_SCRIPT = `(() => {
  const url = document.body.dataset.live;
  if (!url) return;
  let stamp;
  let editing = false;
  document.addEventListener('input', () => { editing = true; });
  const check = async () => {
    try {
      const res = await fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      if (!res.ok) return;
      const next = (await res.json()).stamp;
      if (stamp !== undefined && next !== stamp && !editing) location.reload();
      stamp = next;
    } catch (e) { /* the next check tries again */ }
  };
  check();
  setInterval(check, 10000);
})();
`;
