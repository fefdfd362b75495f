/* The voter's proof page (/logboek/<election>/bewijs): the browser itself checks that the declaration is in
   the log. It recomputes the leaf from its record (SHA-256 of 0x00 and the canonical JSON), then walks the
   audit path to the signed head's root with the verification algorithm of RFC 9162 §2.1.3.2 — the same as
   registry/domain/merkle.py and the standalone verifier. SubtleCrypto only; no inline script (CSP). */
(function () {
  "use strict";

  function unhex(text) {
    if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error("not hex");
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function sha256(parts) {
    const size = parts.reduce((n, p) => n + p.length, 0);
    const data = new Uint8Array(size);
    let at = 0;
    for (const part of parts) { data.set(part, at); at += part.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  }

  const node = (left, right) => sha256([Uint8Array.of(1), left, right]);

  async function verifyInclusion(index, size, leaf, path, root) {
    if (!(index >= 0 && index < size)) return false;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of path) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await node(p, r);
        while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await node(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && hex(r) === hex(root);
  }

  // The canonical record: the keys in sorted order, no spaces; every value is ASCII (as json.dumps writes it).
  function canonical(record) {
    return JSON.stringify({
      declaration: record.declaration, format: "steunregister-log-leaf/1", kieskring: record.kieskring,
      list: record.list, list_version: record.list_version, recorded_at: record.recorded_at, salt: record.salt,
    });
  }

  async function check(data, which) {
    const proof = data[which];
    const leaf = await sha256([Uint8Array.of(0), new TextEncoder().encode(canonical(data.record))]);
    if (hex(leaf) !== data.leaf_hash) return false;
    const shown = document.querySelector('[data-root="' + which + '"]');
    const root = unhex(shown ? shown.textContent.trim() : proof.head.root_hash);
    return verifyInclusion(data.leaf_index, proof.head.tree_size, leaf, proof.audit_path.map(unhex), root);
  }

  async function run() {
    const source = document.getElementById("log-proof-data");
    const outcome = document.getElementById("proof-outcome");
    const text = document.getElementById("proof-outcome-text");
    if (!source || !outcome || !text) return;
    if (!(window.crypto && crypto.subtle)) {
      text.textContent = outcome.dataset.unsupported;
      return;
    }
    text.textContent = outcome.dataset.checking;
    let ok = false, message = outcome.dataset.failed;
    try {
      const data = JSON.parse(source.textContent);
      const checks = ["latest", "decision"].filter((which) => data[which]);
      ok = checks.length > 0;
      for (const which of checks) ok = ok && await check(data, which);
      if (ok) message = data.decision ? outcome.dataset.okDecision : outcome.dataset.okLatest;
    } catch (error) {
      ok = false;
    }
    outcome.classList.add(ok ? "utrecht-alert--ok" : "utrecht-alert--error");
    outcome.dataset.result = ok ? "ok" : "failed";
    text.textContent = message;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
}());
