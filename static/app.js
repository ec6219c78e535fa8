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

  // Level first, then mark: choosing a level limits its mark field to the
  // level's band and fills in the band's middle mark if the mark is outside it.
  // A question marked per objective has one such grid per objective, each
  // with its own mark field (data-mark-for), and a total that follows them.
  document.querySelectorAll("form").forEach((form) => {
    const groups = Array.from(form.querySelectorAll("[data-levels]"))
      .map((fs) => ({
        fs,
        radios: Array.from(fs.querySelectorAll('input[type="radio"]')),
        mark: fs.dataset.markFor ? document.getElementById(fs.dataset.markFor) : form.querySelector("[data-mark-input]"),
      }))
      .filter((g) => g.radios.length && g.mark);
    if (!groups.length) return;
    const total = form.querySelector("[data-parts-total]");
    const sum = () => {
      if (!total) return;
      let t = 0;
      form.querySelectorAll("[data-part-mark]").forEach((i) => { t += Number(i.value || 0); });
      total.textContent = String(t);
    };
    const apply = (group, radio, focus) => {
      const min = Number(radio.dataset.min), max = Number(radio.dataset.max);
      group.mark.min = min;
      group.mark.max = max;
      const current = Number(group.mark.value);
      if (group.mark.value === "" || current < min || current > max) group.mark.value = radio.dataset.mid;
      sum();
      if (focus) { group.mark.focus(); group.mark.select(); }
    };
    groups.forEach((group) => {
      group.radios.forEach((radio) => {
        radio.addEventListener("change", () => apply(group, radio, false));
        if (radio.checked) apply(group, radio, false);
      });
      group.mark.addEventListener("input", sum);
    });
    // Keys 0-9 choose a level when the focus is not in a field: on the grid
    // holding the focus, else the first grid still without a level.
    document.addEventListener("keydown", (event) => {
      const t = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (t && (t.tagName === "INPUT" && t.type !== "radio" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
      if (!/^[0-9]$/.test(event.key)) return;
      const group = groups.find((g) => g.fs.contains(t)) || groups.find((g) => !g.radios.some((r) => r.checked)) || groups[0];
      const radio = group.radios.find((r) => r.value === event.key);
      if (!radio) return;
      event.preventDefault();
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
      apply(group, radio, true);
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
