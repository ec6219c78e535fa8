// The marking page: the keyboard loop (level, mark, rationale, submit and on
// to the next response), the mark checked against its band as it is typed, and
// annotations on the answer. The page works without this file (plain forms);
// kept out of the HTML because the Content-Security-Policy forbids inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const markForm = document.querySelector("[data-marking-form]");
  const forms = Array.from(document.querySelectorAll("form")).filter((f) => f.querySelector("[data-levels], [data-mark-input]"));
  const bands = forms.map(levelsAndMarks);
  const ownBand = bands[forms.indexOf(markForm)] || bands[0];

  // Enter in a field never posts the form: a half-typed mark must not be
  // sent in full while a draft save is on its way.
  forms.forEach((form) => {
    form.addEventListener("keydown", (event) => {
      const t = event.target;
      if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && t.tagName === "INPUT") {
        // Enter means "this is what I meant": the draft is saved, the page stays.
        event.preventDefault();
        if (t.type === "number" || t.type === "text") t.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });

  // A mark outside its band is never saved: the draft waits until it is fixed.
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt.closest ? event.detail.elt.closest("form") : null;
    const band = bands[forms.indexOf(form)];
    if (band && !band.check()) event.preventDefault();
  });

  const annotations = setUpAnnotations();
  const help = document.getElementById("keys-help");
  document.querySelectorAll("[data-keys-help]").forEach((b) => b.addEventListener("click", () => help && help.showModal()));

  document.addEventListener("keydown", (event) => {
    const t = event.target;
    const inText = t && (t.tagName === "TEXTAREA" || t.tagName === "SELECT" || (t.tagName === "INPUT" && !["radio", "checkbox", "number"].includes(t.type)));
    if (help && help.open) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      if (annotations.choosing()) return;
      const submit = document.getElementById("submit-mark");
      if (submit && markForm && markForm.contains(t) || submit && !inText) {
        event.preventDefault();
        submit.click();
      }
      return;
    }
    if (event.key === "Escape" && t && t.id === "comment") {
      event.preventDefault();
      const mark = document.getElementById("mark");
      (mark || document.getElementById("answer-text") || document.body).focus();
      return;
    }
    if (inText || event.ctrlKey || event.metaKey || event.altKey || annotations.choosing()) return;
    const inMark = t && t.tagName === "INPUT" && t.type === "number";
    const key = event.key;
    if (/^[0-9]$/.test(key) && !inMark && ownBand) {
      if (ownBand.chooseLevel(key, t)) event.preventDefault();
    } else if ((key === "+" || key === "=" || key === "-") && ownBand) {
      event.preventDefault();
      ownBand.step(key === "-" ? -1 : 1, t);
    } else if ((key === "ArrowUp" || key === "ArrowDown") && ownBand && (t === document.body || inMark)) {
      event.preventDefault();
      ownBand.step(key === "ArrowDown" ? -1 : 1, t);
    } else if (key === "r" || key === "R") {
      const comment = document.getElementById("comment") || document.getElementById("rationale");
      if (comment) { event.preventDefault(); comment.focus(); }
    } else if (key === "n" || key === "N" || key === "p" || key === "P") {
      const link = document.getElementById(key.toLowerCase() === "n" ? "next" : "previous");
      if (link) { event.preventDefault(); window.location.href = link.href; }
    } else if (key === "?") {
      event.preventDefault();
      if (help) help.showModal();
    } else if (annotations.key(key)) {
      event.preventDefault();
    }
  });
});

// Level first, then mark: choosing a level limits its mark field to the
// level's band and fills in the band's middle mark if the mark is outside it.
// A question marked per objective has one grid per objective, each with its
// own mark field (data-mark-for), and a total that follows them.
function levelsAndMarks(form) {
  const groups = Array.from(form.querySelectorAll("[data-levels]"))
    .map((fs) => ({
      fs,
      radios: Array.from(fs.querySelectorAll('input[type="radio"]')),
      mark: fs.dataset.markFor ? document.getElementById(fs.dataset.markFor) : form.querySelector("[data-mark-input]"),
    }))
    .filter((g) => g.radios.length && g.mark);
  const plainMark = groups.length ? null : form.querySelector("[data-mark-input]");
  const totals = form.querySelectorAll("[data-parts-total]");
  const range = form.querySelector("#mark-range");
  const barLevel = form.querySelector("#bar-level");
  const chosen = (g) => g.radios.find((r) => r.checked);
  const sum = () => {
    if (!totals.length) return;
    let t = 0;
    form.querySelectorAll("[data-part-mark]").forEach((i) => { t += Number(i.value || 0); });
    totals.forEach((o) => { o.textContent = String(t); });
  };
  const say = (text, bad) => {
    if (!range) return;
    range.textContent = text;
    range.classList.toggle("range-error", !!bad);
  };
  // Whether every mark lies in its band; marks the box and names the band when not.
  const check = () => {
    let ok = true;
    const fields = groups.length ? groups.map((g) => [g, g.mark]) : plainMark ? [[null, plainMark]] : [];
    fields.forEach(([g, input]) => {
      const radio = g && chosen(g);
      const min = radio ? Number(radio.dataset.min) : Number(input.min || 0);
      const max = radio ? Number(radio.dataset.max) : Number(input.max);
      const text = input.value.trim();
      const value = Number(text);
      const bad = text !== "" && (!Number.isInteger(value) || value < min || value > max);
      input.classList.toggle("out-of-band", bad);
      if (bad) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
      if (bad) {
        ok = false;
        const where = radio ? (g.fs.querySelector("legend") && groups.length > 1 ? g.fs.querySelector("legend").textContent.trim() + " level " : "Level ") + radio.value : "This question";
        say(`${where} allows ${min}–${max}: ${text} is outside it, so it is not saved.`, true);
      }
    });
    if (ok && range && !groups.length && plainMark) say(`0–${plainMark.max}`, false);
    if (ok && range && groups.length === 1) {
      const radio = chosen(groups[0]);
      say(radio ? `Level ${radio.value} allows ${radio.dataset.min}–${radio.dataset.max}` : "Choose a level first", false);
    }
    if (ok && range && groups.length > 1) say("", false);
    return ok;
  };
  const apply = (group, radio, focus) => {
    const min = Number(radio.dataset.min), max = Number(radio.dataset.max);
    group.mark.min = min;
    group.mark.max = max;
    const current = Number(group.mark.value);
    if (group.mark.value === "" || current < min || current > max) group.mark.value = radio.dataset.mid;
    if (barLevel && groups.length === 1) barLevel.textContent = `Level ${radio.value}`;
    sum();
    check();
    if (focus) { group.mark.focus(); group.mark.select(); }
  };
  groups.forEach((group) => {
    group.radios.forEach((radio) => {
      radio.addEventListener("change", () => apply(group, radio, false));
      if (radio.checked) apply(group, radio, false);
    });
    group.mark.addEventListener("input", () => { sum(); check(); });
  });
  if (plainMark) plainMark.addEventListener("input", check);
  // The grid a key acts on: the one holding the focus, else the first still without a level.
  const current = (t) => groups.find((g) => g.fs.contains(t) || g.mark === t) || groups.find((g) => !chosen(g)) || groups[0];
  return {
    check,
    chooseLevel(key, t) {
      const group = current(t);
      const radio = group && group.radios.find((r) => r.value === key);
      if (!radio) return false;
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
      apply(group, radio, true);
      return true;
    },
    step(by, t) {
      const group = current(t);
      const input = group ? group.mark : plainMark;
      if (!input) return;
      const radio = group && chosen(group);
      const min = radio ? Number(radio.dataset.min) : Number(input.min || 0);
      const max = radio ? Number(radio.dataset.max) : Number(input.max);
      const next = Math.min(max, Math.max(min, Number(input.value || (by > 0 ? min - 1 : max + 1)) + by));
      input.value = String(next);
      sum();
      check();
      input.dispatchEvent(new Event("change", { bubbles: true }));
      input.focus();
    },
  };
}

// Annotations: the layers the page may show (the viewer's own, the definitive
// mark's, and for the principal examiner every examiner's), drawn on the
// answer; the one editable layer lives in its form's hidden field and is saved
// with the draft (or the definitive mark).
function setUpAnnotations() {
  const none = { key: () => false, choosing: () => false };
  const panel = document.getElementById("annotations");
  if (!panel) return none;
  const layers = JSON.parse(panel.dataset.layers || "[]");
  const answer = document.querySelector("[data-answer]");
  const overlay = document.querySelector("[data-scan-overlay]");
  const pageInput = document.querySelector("[data-scan-page]");
  const editable = layers.find((l) => l.editable);
  const input = editable ? document.querySelector("[data-annotations-input]") : null;
  const form = input ? input.closest("form") : null;
  const tools = document.querySelector("[data-annotate-tools]");
  const chooser = document.querySelector("[data-stamp-chooser]");
  const hidden = new Set();
  const text = answer ? answer.textContent : "";
  const chars = Array.from(text);
  const symbols = { tick: "✓", cross: "✗", ao: "AO", point: "•", comment: "✎" };
  const names = { tick: "Tick", cross: "Cross", ao: "Objective", point: "Point", comment: "Comment" };
  let pending = null; // {start, end} of the passage to stamp
  let sentence = -1;
  let placing = null; // a stamp waiting for a click on the scan
  let choosing = null; // the stamp whose label or note is being chosen

  if (editable && input) {
    try { editable.annotations = JSON.parse(input.value || "[]"); } catch (_) { editable.annotations = []; }
    if (tools) tools.hidden = false;
  }

  // Character offsets are counted in code points, as the server counts them.
  const contentText = (node) => {
    const copy = node.cloneNode(true);
    copy.querySelectorAll && copy.querySelectorAll("[data-noncontent]").forEach((n) => n.remove());
    return copy.textContent;
  };
  const offsetOf = (container, offset) => {
    const r = document.createRange();
    r.selectNodeContents(answer);
    r.setEnd(container, offset);
    return Array.from(contentText(r.cloneContents())).length;
  };
  // The DOM position of a code-point offset, skipping the stamps drawn in the text.
  const positionOf = (target) => {
    const walker = document.createTreeWalker(answer, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement.closest("[data-noncontent]") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    let count = 0, node, last = null;
    while ((node = walker.nextNode())) {
      const cps = Array.from(node.data);
      if (count + cps.length >= target) return [node, cps.slice(0, target - count).join("").length];
      count += cps.length;
      last = node;
    }
    return last ? [last, last.data.length] : [answer, 0];
  };
  const select = (start, end) => {
    const [sn, so] = positionOf(start);
    const [en, eo] = positionOf(end);
    const r = document.createRange();
    r.setStart(sn, so);
    r.setEnd(en, eo);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
    const box = sn.parentElement;
    if (box && box.scrollIntoView) box.scrollIntoView({ block: "nearest" });
  };
  const sentences = () => {
    const out = [];
    const re = /[^.!?\n]+(?:[.!?]+["'”’)\]]*|\n|$)/g;
    let m;
    while ((m = re.exec(text)) && m[0].length) {
      const lead = m[0].length - m[0].trimStart().length;
      const body = m[0].trim();
      if (!body) continue;
      const start = Array.from(text.slice(0, m.index + lead)).length;
      out.push([start, start + Array.from(body).length]);
    }
    return out;
  };

  const draw = () => {
    if (answer) {
      const shown = layers.filter((l) => !hidden.has(l.key));
      const cuts = new Set([0, chars.length]);
      const ranged = [];
      shown.forEach((l) => l.annotations.forEach((a, i) => {
        if (a.start == null || a.end == null) return;
        cuts.add(Math.min(a.start, chars.length));
        cuts.add(Math.min(a.end, chars.length));
        ranged.push({ l, a, i });
      }));
      const points = Array.from(cuts).sort((x, y) => x - y);
      answer.textContent = "";
      for (let k = 0; k + 1 < points.length; k++) {
        const [s, e] = [points[k], points[k + 1]];
        const piece = chars.slice(s, e).join("");
        const over = ranged.filter((r) => r.a.start <= s && r.a.end >= e);
        if (!over.length) { answer.append(piece); continue; }
        const mark = document.createElement("mark");
        const top = over[over.length - 1];
        mark.className = `ann colour-${top.l.colour}` + (over.length > 1 ? " ann-many" : "");
        mark.title = over.map((r) => `${r.l.name}: ${describe(r.a)}`).join("\n");
        mark.textContent = piece;
        answer.append(mark);
        over.filter((r) => r.a.end === e).forEach((r) => {
          const stamp = document.createElement("span");
          stamp.className = `ann-stamp colour-${r.l.colour}`;
          stamp.dataset.noncontent = "";
          stamp.setAttribute("aria-hidden", "true");
          stamp.textContent = r.a.kind === "ao" ? r.a.label : symbols[r.a.kind];
          answer.append(stamp);
        });
      }
    }
    if (overlay) {
      overlay.textContent = "";
      const page = pageInput ? Number(pageInput.value || 1) : 1;
      layers.filter((l) => !hidden.has(l.key)).forEach((l) => l.annotations.forEach((a) => {
        if (a.page == null || a.page !== page) return;
        const pin = document.createElement("span");
        pin.className = `scan-pin colour-${l.colour}`;
        pin.style.left = `${a.x * 100}%`;
        pin.style.top = `${a.y * 100}%`;
        pin.title = `${l.name}: ${describe(a)}`;
        pin.textContent = a.kind === "ao" ? a.label : symbols[a.kind];
        overlay.append(pin);
      }));
      overlay.hidden = false;
    }
  };
  const quote = (a) => {
    if (a.page != null) return `page ${a.page}, ${Math.round(a.x * 100)}% across, ${Math.round(a.y * 100)}% down`;
    const p = chars.slice(a.start, a.end).join("").replace(/\s+/g, " ").trim();
    return `“${p.length > 90 ? p.slice(0, 88) + "…" : p}”`;
  };
  const describe = (a) => {
    let what = a.kind === "ao" ? a.label : a.kind === "point" ? `Point: ${a.label}` : names[a.kind];
    if (a.text) what += `: ${a.text}`;
    return what;
  };
  const list = () => {
    if (!editable) return;
    const ul = panel.querySelector(`[data-layer-list="${editable.key}"]`);
    if (!ul) return;
    ul.textContent = "";
    if (!editable.annotations.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "None yet.";
      ul.append(li);
    }
    editable.annotations.forEach((a, i) => {
      const li = document.createElement("li");
      const stamp = document.createElement("span");
      stamp.className = "stamp";
      stamp.textContent = symbols[a.kind];
      const q = document.createElement("span");
      q.className = "quote";
      q.textContent = quote(a);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link-button";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove ${describe(a)} on ${quote(a)}`);
      remove.addEventListener("click", () => { editable.annotations.splice(i, 1); changed(); });
      li.append(stamp, ` ${describe(a)} `, q, " ", remove);
      ul.append(li);
    });
  };
  const changed = () => {
    input.value = JSON.stringify(editable.annotations);
    draw();
    list();
    // Saved with the draft, as the mark is (the definitive form saves when sent).
    if (form && window.htmx && form.hasAttribute("hx-post")) window.htmx.trigger(form, "annotations");
  };
  const add = (a) => {
    editable.annotations.push(a);
    editable.annotations.sort((x, y) => (x.page || 0) - (y.page || 0) || (x.start || 0) - (y.start || 0));
    changed();
    // The passage stays selected, for another stamp on it.
    if (pending) select(pending.start, pending.end); else window.getSelection().removeAllRanges();
    say(`${describe(a)} added on ${quote(a)}.`);
  };
  const hint = document.querySelector("[data-annotate-hint]");
  const say = (words) => { if (hint) { hint.textContent = words; hint.setAttribute("role", "status"); } };

  // The passage to stamp follows the selection in the answer.
  document.addEventListener("selectionchange", () => {
    if (!answer) return;
    const sel = window.getSelection();
    if (!sel.rangeCount || sel.isCollapsed) return;
    const r = sel.getRangeAt(0);
    if (!answer.contains(r.startContainer) || !answer.contains(r.endContainer)) return;
    const start = offsetOf(r.startContainer, r.startOffset);
    const end = offsetOf(r.endContainer, r.endOffset);
    if (end > start) pending = { start, end };
  });

  const open = (kind) => {
    choosing = kind;
    chooser.hidden = false;
    const options = chooser.querySelectorAll("[data-choice]");
    options.forEach((b) => { b.hidden = b.dataset.choice !== kind; });
    const note = chooser.querySelector("[data-chooser-note]");
    const noteLabel = chooser.querySelector("[data-chooser-note-label]");
    note.value = "";
    chooser.querySelector("[data-chooser-title]").textContent =
      kind === "comment" ? "Your comment on the passage" : kind === "ao" ? "Which objective? (press its number)" : "Which point of the indicative content? (press its number)";
    noteLabel.textContent = kind === "comment" ? "Comment" : "Note (optional)";
    (kind === "comment" ? note : chooser.querySelector(`[data-choice="${kind}"]`) || note).focus();
  };
  const close = () => {
    choosing = null;
    chooser.hidden = true;
    if (answer) answer.focus();
  };
  const anchor = () => {
    if (answer && pending) return { start: pending.start, end: pending.end };
    return null;
  };
  const stamp = (kind, label, note) => {
    const a = { kind };
    if (label) a.label = label;
    if (note) a.text = note;
    const at = anchor();
    if (at) return add(Object.assign(a, at));
    if (overlay) {
      placing = a;
      overlay.classList.add("placing");
      say("Click the place on the scan for the stamp (Esc to cancel).");
      return;
    }
    say("Select a passage of the answer first (or press ] to select its first sentence).");
  };
  const begin = (kind) => {
    if (!editable) return false;
    if (kind === "tick" || kind === "cross") { stamp(kind); return true; }
    if (!anchor() && !overlay) { say("Select a passage of the answer first (or press ] to select its first sentence)."); return true; }
    const options = chooser.querySelectorAll(`[data-choice="${kind}"]`);
    if (kind === "ao" && options.length === 1) { stamp("ao", options[0].dataset.label); return true; }
    if (kind !== "comment" && !options.length) return false;
    open(kind);
    return true;
  };
  if (chooser) {
    chooser.querySelectorAll("[data-choice]").forEach((b) => b.addEventListener("click", () => {
      const note = chooser.querySelector("[data-chooser-note]").value.trim();
      const kind = choosing;
      close();
      stamp(kind, b.dataset.label, note);
    }));
    chooser.querySelector("[data-chooser-ok]").addEventListener("click", () => {
      const note = chooser.querySelector("[data-chooser-note]").value.trim();
      if (choosing === "comment" && note) { close(); stamp("comment", null, note); }
    });
    chooser.querySelector("[data-chooser-cancel]").addEventListener("click", close);
    chooser.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); close(); return; }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        event.stopPropagation();
        chooser.querySelector("[data-chooser-ok]").click();
        return;
      }
      if (/^[1-9]$/.test(event.key) && event.target.tagName !== "TEXTAREA") {
        const visible = Array.from(chooser.querySelectorAll("[data-choice]")).filter((b) => !b.hidden);
        const b = visible[Number(event.key) - 1];
        // Handled here: the digit must not also choose a level.
        event.stopPropagation();
        if (b) { event.preventDefault(); b.click(); }
      }
    });
  }
  if (tools) tools.querySelectorAll("[data-stamp]").forEach((b) => {
    // Keep the selection when the button is pressed.
    b.addEventListener("mousedown", (event) => event.preventDefault());
    b.addEventListener("click", () => begin(b.dataset.stamp));
  });
  if (overlay) {
    overlay.addEventListener("click", (event) => {
      if (!placing) return;
      const box = overlay.getBoundingClientRect();
      const a = Object.assign(placing, {
        page: pageInput ? Math.max(1, Number(pageInput.value || 1)) : 1,
        x: Math.round(((event.clientX - box.left) / box.width) * 1000) / 1000,
        y: Math.round(((event.clientY - box.top) / box.height) * 1000) / 1000,
      });
      placing = null;
      overlay.classList.remove("placing");
      add(a);
    });
    if (pageInput) pageInput.addEventListener("change", draw);
  }
  panel.querySelectorAll("[data-layer-toggle]").forEach((box) => box.addEventListener("change", () => {
    if (box.checked) hidden.delete(box.dataset.layerToggle); else hidden.add(box.dataset.layerToggle);
    draw();
  }));
  draw();
  list();

  return {
    choosing: () => choosing !== null,
    key(key) {
      if (key === "Escape" && placing) { placing = null; overlay.classList.remove("placing"); say("Cancelled."); return true; }
      if ((key === "]" || key === "[") && answer) {
        const all = sentences();
        if (!all.length) return true;
        sentence = key === "]" ? Math.min(all.length - 1, sentence + 1) : Math.max(0, sentence - 1);
        const [s, e] = all[sentence];
        select(s, e);
        pending = { start: s, end: e };
        say(`Sentence ${sentence + 1} of ${all.length} selected: T tick, X cross, A objective, I point, C comment.`);
        return true;
      }
      const kinds = { t: "tick", x: "cross", a: "ao", i: "point", c: "comment" };
      const kind = kinds[key.toLowerCase()];
      return kind ? begin(kind) : false;
    },
  };
}
