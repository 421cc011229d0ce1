// The page of `python -m spacy_clinkd serve`: paste or open a note, annotate
// it through POST /v1/annotate, show the entities, download the record.
// Offsets from the server count Unicode code points (Python's str), while
// JavaScript strings count UTF-16 units: the text is split with Array.from
// (code points) before it is cut at the offsets, so an emoji before an
// entity does not shift its highlight.
"use strict";

(function () {
  const PALETTE_SIZE = 8;
  const ASSERTION_WORDS = {
    present: "present",
    absent: "absent (negated)",
    possible: "possible (uncertain)",
  };
  const FLAGS = { absent: "negated", possible: "uncertain" };
  // ConText categories (`context` in a record), as flags and in the table
  const CONTEXT_FLAGS = { historical: "history", hypothetical: "hypothetical", family: "family" };
  const state = {
    labels: [], // the model's labels, in legend order
    maxChars: null,
    record: null, // the last record, as the API returned it
    fileName: null,
    fileText: null, // a file's text exactly as read (its CRLFs kept)
  };

  const byId = (id) => document.getElementById(id);
  const form = byId("annotate-form");
  const note = byId("note");
  const fileInput = byId("file");
  const annotateButton = byId("annotate");
  const downloadButton = byId("download");
  const clearButton = byId("clear");
  const statusLine = byId("status");
  const errorLine = byId("error");
  const view = byId("highlighted");
  const tableBody = document.querySelector("#entity-table tbody");
  const caption = byId("table-caption");

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function headers() {
    const result = { "Content-Type": "application/json" };
    const key = byId("api-key").value;
    if (key) result["X-API-Key"] = key;
    return result;
  }

  function codePoints(text) {
    return Array.from(text);
  }

  function showError(message) {
    errorLine.textContent = message;
    errorLine.hidden = !message;
  }

  function labelClass(label) {
    let index = state.labels.indexOf(label);
    if (index < 0) {
      state.labels.push(label);
      index = state.labels.length - 1;
      renderLegend();
    }
    return "c" + (index % PALETTE_SIZE);
  }

  function renderLegend() {
    const legend = byId("legend");
    legend.replaceChildren();
    state.labels.forEach((label, index) => {
      legend.append(
        el("li", {}, [el("span", { className: "swatch c" + (index % PALETTE_SIZE), "aria-hidden": "true" }), label])
      );
    });
    legend.append(
      el("li", {}, [el("span", { className: "ent-flag flag-absent", text: "negated" }), "absent: the note rules it out"]),
      el("li", {}, [el("span", { className: "ent-flag flag-possible", text: "uncertain" }), "possible: hedged"]),
      el("li", {}, [el("span", { className: "ent-flag flag-historical", text: "history" }), "the patient's past"]),
      el("li", {}, [el("span", { className: "ent-flag flag-family", text: "family" }), "someone else's (a relative)"]),
      el("li", {}, [el("span", { className: "ent-flag flag-hypothetical", text: "hypothetical" }), "may come"])
    );
  }

  function formatScore(score) {
    return typeof score === "number" ? score.toFixed(4) : "–";
  }

  async function loadModel() {
    const line = byId("model-line");
    try {
      const response = await fetch("/v1/model", { headers: headers() });
      const body = await response.json();
      if (!response.ok) {
        line.textContent = body && body.error ? body.error.message : "The model's details are not available.";
        if (response.status === 401) byId("key-box").open = true;
        return;
      }
      state.maxChars = body.max_chars;
      byId("char-limit").textContent = " of at most " + body.max_chars.toLocaleString("en");
      body.labels.forEach(labelClass);
      renderLegend();
      let text = `${body.name} ${body.version} · ${body.precision} · labels: ${body.labels.join(", ")}`;
      const strict = body.scores && body.scores.strict;
      if (strict && typeof strict.f === "number") {
        text += ` · ${body.scores.test_set || "test"} strict F1 ${strict.f.toFixed(3)} (model card)`;
      }
      if (body.licence) text += ` · licence: ${body.licence}`;
      line.textContent = text;
    } catch (err) {
      line.textContent = "The model's details could not be loaded: is the server running?";
    }
  }

  function textToSend() {
    // a textarea turns CRLF into LF; send an opened file's own text unless it was edited
    const value = note.value;
    if (state.fileText !== null && value === state.fileText.replace(/\r\n?/g, "\n")) return state.fileText;
    return value;
  }

  function display(text) {
    // CR has no line-break meaning on screen; the offsets were taken before this
    return text.replace(/\r\n?/g, "\n");
  }

  function renderRecord(text, record) {
    const chars = codePoints(text);
    const entities = record.entities.slice().sort((a, b) => a.start - b.start);
    view.replaceChildren();
    let position = 0;
    entities.forEach((ent, index) => {
      if (ent.start < position) return; // never overlapping from spaCy's doc.ents; kept safe
      view.append(display(chars.slice(position, ent.start).join("")));
      const assertion = ent.assertion || "present";
      const context = ent.context || [];
      const title = [ent.label, ASSERTION_WORDS[assertion] || assertion, ...context, `score ${formatScore(ent.score)}`].join(" · ");
      const children = [
        el("span", { className: "ent-text", text: display(chars.slice(ent.start, ent.end).join("")) }),
        el("span", { className: "ent-tag", text: ent.label }),
      ];
      if (FLAGS[assertion]) {
        children.push(el("span", { className: "ent-flag flag-" + assertion, text: FLAGS[assertion] }));
      }
      context.forEach((name) => {
        children.push(el("span", { className: "ent-flag flag-" + name, text: CONTEXT_FLAGS[name] || name }));
      });
      view.append(
        el(
          "mark",
          {
            className: `ent ${labelClass(ent.label)} assertion-${assertion}`,
            title: title,
            "data-index": String(index),
            "data-label": ent.label,
            "data-assertion": assertion,
            "data-context": context.join(" "),
          },
          children
        )
      );
      position = ent.end;
    });
    view.append(display(chars.slice(position).join("")));
    renderTable(entities);
  }

  function renderTable(entities) {
    tableBody.replaceChildren();
    entities.forEach((ent, index) => {
      const assertion = ent.assertion || "present";
      tableBody.append(
        el("tr", { "data-assertion": assertion }, [
          el("td", { className: "num", text: String(index + 1) }),
          el("td", { text: display(ent.text) }),
          el("td", {}, [el("span", { className: "swatch " + labelClass(ent.label), "aria-hidden": "true" }), " " + ent.label]),
          el("td", { text: ASSERTION_WORDS[assertion] || assertion }),
          el("td", { text: (ent.context || []).join(", ") }),
          el("td", { className: "num", text: formatScore(ent.score) }),
          el("td", { className: "num", text: String(ent.start) }),
          el("td", { className: "num", text: String(ent.end) }),
        ])
      );
    });
    const negated = entities.filter((e) => e.assertion === "absent").length;
    const uncertain = entities.filter((e) => e.assertion === "possible").length;
    caption.textContent = `${entities.length} entities: ${negated} negated, ${uncertain} uncertain.`;
  }

  async function annotate(event) {
    event.preventDefault();
    showError("");
    const text = textToSend();
    if (!text.trim()) {
      showError("Paste a note or open a .txt file first.");
      note.focus();
      return;
    }
    if (state.maxChars !== null && codePoints(text).length > state.maxChars) {
      showError(`The note has ${codePoints(text).length} characters, over this server's limit of ${state.maxChars}.`);
      return;
    }
    annotateButton.disabled = true;
    form.setAttribute("aria-busy", "true");
    statusLine.textContent = "Annotating…";
    const started = performance.now();
    try {
      const response = await fetch("/v1/annotate", {
        method: "POST",
        headers: headers(),
        body: JSON.stringify({ text: text, id: state.fileName || "note" }),
      });
      let body = null;
      try {
        body = await response.json();
      } catch (err) {
        body = null;
      }
      if (!response.ok) {
        const message = body && body.error ? `${body.error.message} (${body.error.code})` : `HTTP ${response.status}`;
        showError(message);
        statusLine.textContent = "Not annotated.";
        if (response.status === 401) byId("key-box").open = true;
        return;
      }
      state.record = body.records[0];
      renderRecord(text, state.record);
      downloadButton.disabled = false;
      const ms = Math.round(performance.now() - started);
      statusLine.textContent = `Annotated in ${ms} ms: ${caption.textContent}`;
    } catch (err) {
      showError("The server did not answer: is it still running?");
      statusLine.textContent = "Not annotated.";
    } finally {
      annotateButton.disabled = false;
      form.removeAttribute("aria-busy");
    }
  }

  function download() {
    if (!state.record) return;
    const blob = new Blob([JSON.stringify(state.record, null, 2) + "\n"], { type: "application/json" });
    const url = URL.createObjectURL(blob);
    const base = (state.fileName || "note").replace(/\.txt$/i, "");
    const link = el("a", { href: url, download: base + ".json" });
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    statusLine.textContent = `Downloaded ${base}.json.`;
  }

  function openFile() {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      state.fileText = String(reader.result);
      state.fileName = file.name;
      note.value = state.fileText;
      updateCount();
      statusLine.textContent = `Opened ${file.name}.`;
    };
    reader.onerror = () => showError(`Cannot read ${file.name}.`);
    reader.readAsText(file, "utf-8");
  }

  function updateCount() {
    byId("char-count").textContent = codePoints(note.value).length.toLocaleString("en");
  }

  function clear() {
    note.value = "";
    state.fileText = null;
    state.fileName = null;
    state.record = null;
    fileInput.value = "";
    downloadButton.disabled = true;
    view.replaceChildren(el("p", { className: "placeholder", text: "Annotate a note to see its entities here." }));
    tableBody.replaceChildren();
    caption.textContent = "No note annotated yet.";
    statusLine.textContent = "";
    showError("");
    updateCount();
    note.focus();
  }

  form.addEventListener("submit", annotate);
  downloadButton.addEventListener("click", download);
  clearButton.addEventListener("click", clear);
  fileInput.addEventListener("change", openFile);
  note.addEventListener("input", () => {
    if (!note.value) {
      state.fileText = null;
      state.fileName = null;
    }
    updateCount();
  });
  note.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  byId("api-key").addEventListener("change", loadModel);
  renderLegend();
  loadModel();
})();
