// Small progressive enhancements; every page works without this file.
// Kept out of the HTML because the Content-Security-Policy forbids inline script.
document.addEventListener("DOMContentLoaded", () => {
  // Send the CSRF token with every htmx request, from the page's forms.
  const token = document.querySelector('input[name="csrf"]');
  if (token) {
    document.body.addEventListener("htmx:configRequest", (event) => {
      event.detail.headers["X-CSRF-Token"] = token.value;
    });
  }
  // Ask before buttons marked data-confirm do something that cannot be undone.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
});

// Live parts (the dashboard, the qualification and referral pages, the referrals on a
// marking page) refresh when the server says something changed (Server-Sent Events),
// at most a few times a second. data-kinds narrows which changes a part listens for.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.EventSource) return;
  document.querySelectorAll("[data-live-src][data-events]").forEach((live) => listen(live));
});

function listen(live) {
  const status = live.dataset.kinds ? null : document.getElementById("live-status");
  let timer = null;
  const refresh = () => {
    timer = null;
    fetch(live.dataset.liveSrc, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => {
        live.innerHTML = html;
        if (window.htmx) window.htmx.process(live);
        if (status) status.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
      })
      .catch(() => { if (status) status.textContent = "Could not refresh; retrying on the next change."; });
  };
  const source = new EventSource(live.dataset.events);
  const changed = () => { if (!timer) timer = setTimeout(refresh, 200); };
  const kinds = live.dataset.kinds
    ? live.dataset.kinds.split(" ").concat(["resync"])
    : ["mark", "definitive", "release", "tolerance", "qualification", "referral", "amendment", "resync"];
  kinds.forEach((kind) => source.addEventListener(kind, changed));
  let opened = false;
  source.onopen = () => {
    if (status) status.textContent = "Live.";
    // After a dropped connection, changes may have been missed: fetch afresh.
    if (opened) changed();
    opened = true;
  };
  source.onerror = () => { if (status) status.textContent = "Reconnecting…"; };
}
