// caseledger pages: shared helpers — canonical JSON (RFC 8785), Ed25519 keys held by this
// browser (WebCrypto, kept in IndexedDB, private keys not extractable), sign-in, API calls.
"use strict";

const CL = (() => {
  const SIGNIN_PREFIX = "caseledger/signin/v1\n";
  const ENVELOPE_PREFIX = "caseledger/envelope/v1\n";
  // PKCS#8 wrapping of a 32-byte Ed25519 seed (RFC 8410): fixed header, then the seed.
  const PKCS8_HEADER = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65,
    0x70, 0x04, 0x22, 0x04, 0x20];
  const encoder = new TextEncoder();
  const TOKEN = "caseledger.session";
  // The step table as the server renders it into the page (ledger/steps.py): the names of
  // steps and of case states are never kept here.
  const TABLE = (() => {
    const node = document.getElementById("caseledger-steps");
    return node ? JSON.parse(node.textContent) : { steps: {}, states: {}, forms: {}, roles: {} };
  })();
  const names = (entries, field) => Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, v[field]]));
  const STEP_TEXT = names(TABLE.steps, "zh");
  const STATUS_TEXT = names(TABLE.states, "queue_zh");
  const ROLE_TEXT = names(TABLE.roles, "zh");
  const FORMS = TABLE.forms;
  const COMMITMENT_DOMAIN = "caseledger/person-commitment/v1\n";

  function b64(bytes) {
    let text = "";
    for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
    return btoa(text);
  }

  function unb64(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  async function sha256hex(bytes) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // RFC 8785 for what envelopes hold (strings, safe integers, booleans, null, arrays,
  // objects): ECMAScript string serialisation, members sorted by UTF-16 code units.
  function canonical(value) {
    if (value === null || typeof value === "boolean" || typeof value === "string") {
      return JSON.stringify(value);
    }
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) throw new Error("envelopes carry integers only");
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }

  function utcSeconds(date) {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  // The validity rule of ledger/validity.py: `years` calendar years from the China date of
  // `fromText`, ending the day before the anniversary; the end is the instant that day begins
  // in China. (Date.UTC rolls 29 February of a common year to 1 March, as the rule wants.)
  function validityUntil(fromText, years) {
    const chinaDay = new Date(new Date(fromText).getTime() + 8 * 3600 * 1000);
    const anniversary = Date.UTC(chinaDay.getUTCFullYear() + years, chinaDay.getUTCMonth(),
      chinaDay.getUTCDate());
    return utcSeconds(new Date(anniversary - 24 * 3600 * 1000 - 8 * 3600 * 1000));
  }

  function chinaTime(text) {
    if (!text) return "—";
    const at = new Date(text);
    if (Number.isNaN(at.getTime())) return text;
    const shifted = new Date(at.getTime() + 8 * 3600 * 1000);
    return shifted.toISOString().slice(0, 16).replace("T", " ");
  }

  function openStore() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open("caseledger", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("keys", { keyPath: "principal" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function storeCall(mode, action) {
    const db = await openStore();
    return new Promise((resolve, reject) => {
      const request = action(db.transaction("keys", mode).objectStore("keys"));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  const loadKey = (principal) => storeCall("readonly", (s) => s.get(principal));
  const saveKey = (record) => storeCall("readwrite", (s) => s.put(record));
  const forgetKey = (principal) => storeCall("readwrite", (s) => s.delete(principal));

  async function keyRecord(principal, publicRaw, privateKey) {
    const keyId = (await sha256hex(publicRaw)).slice(0, 16);
    return { principal, keyId, publicKey: b64(publicRaw), privateKey };
  }

  // A new key pair made here; the private half can sign but never be read out.
  async function generateKey(principal) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
    const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
    const record = await keyRecord(principal, raw, pair.privateKey);
    await saveKey(record);
    return record;
  }

  // A caseledger key file, opened here (under its passphrase when it has one); the private
  // key is kept by this browser as a non-extractable WebCrypto key.
  async function importKeyFile(text, passphrase) {
    let doc;
    try { doc = JSON.parse(text); } catch (e) { throw new Error("这不是 caseledger 密钥文件。"); }
    if (doc.kind !== "caseledger/key") throw new Error("这不是 caseledger 密钥文件。");
    let seed;
    if (doc.sealed) {
      if (!passphrase) throw new Error("该密钥文件有口令保护：请先填写口令。");
      seed = await CLSealed.openSealed(doc.sealed, passphrase);
      if (seed === null) throw new Error("口令不正确，无法打开密钥文件。");
    } else {
      seed = unb64(doc.seed);
    }
    const der = new Uint8Array([...PKCS8_HEADER, ...seed]);
    const privateKey = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
    const record = await keyRecord(doc.principal, unb64(doc.public_key), privateKey);
    if (record.keyId !== doc.key_id) throw new Error("密钥文件已损坏：密钥标识不符。");
    const probe = encoder.encode("caseledger/key-check");
    const signature = await crypto.subtle.sign({ name: "Ed25519" }, privateKey, probe);
    const publicKey = await crypto.subtle.importKey("raw", unb64(doc.public_key), { name: "Ed25519" }, false, ["verify"]);
    if (!(await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature, probe))) {
      throw new Error("密钥文件已损坏：私钥与公钥不符。");
    }
    await saveKey(record);
    return record;
  }

  function hex(bytes) {
    return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A salted commitment to a number or an address (ledger/personal.py): the opening goes to
  // the office's private table beside the envelope, never into the signed body.
  async function commit(value) {
    const normal = value.replace(/\s+/g, "").toUpperCase();
    const salt = crypto.getRandomValues(new Uint8Array(32));
    const data = new Uint8Array([...encoder.encode(COMMITMENT_DOMAIN), ...salt, ...encoder.encode(normal)]);
    return { commitment: "pc1:" + (await sha256hex(data)), value: normal, salt: hex(salt) };
  }

  function openingsHeader(openings) {
    const text = b64(encoder.encode(JSON.stringify(openings)));
    return text.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function fileDigest(file) {
    return sha256hex(await file.arrayBuffer());
  }

  async function sign(record, text) {
    return b64(await crypto.subtle.sign({ name: "Ed25519" }, record.privateKey, encoder.encode(text)));
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(body && (body.zh || body.message) ? (body.zh || body.message) : "HTTP " + status);
      this.detail = body && body.message ? body.message : "";
      this.status = status;
      this.code = body && body.code ? body.code : "http." + status;
      this.codes = body && body.codes ? body.codes : [];
    }
  }

  // What the server's clock says now, as its last answer's Date header told: a step this
  // browser dates itself (an application, a directory change) must be within the server's
  // clock skew rule, whatever this machine's clock says.
  let clockOffset = null;
  const now = () => new Date(Date.now() + (clockOffset || 0));

  async function request(method, path, { json, raw, token, openings } = {}) {
    const headers = {};
    if (openings && openings.length) headers["Caseledger-Openings"] = openingsHeader(openings);
    if (token) headers.Authorization = "Bearer " + token;
    let body;
    if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    if (raw !== undefined) { headers["Content-Type"] = "application/json"; body = raw; }
    const response = await fetch(path, { method, headers, body });
    const date = Date.parse(response.headers.get("Date") || "");
    // Never back: the header counts whole seconds, and two steps dated here must not come out
    // in reverse order.
    if (!Number.isNaN(date)) clockOffset = clockOffset === null ? date - Date.now() : Math.max(clockOffset, date - Date.now());
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // Sign in: sign the server's challenge under the fixed sign-in prefix, never anything else.
  async function signIn(record) {
    const challenge = await request("POST", "/v1/auth/challenge", {
      json: { principal: record.principal, key_id: record.keyId },
    });
    const signature = await sign(record, SIGNIN_PREFIX + challenge.challenge);
    const session = await request("POST", "/v1/auth/token", {
      json: { challenge: challenge.challenge, signature },
    });
    sessionStorage.setItem(TOKEN, JSON.stringify(session));
    return session;
  }

  function session() {
    const saved = sessionStorage.getItem(TOKEN);
    if (!saved) return null;
    const value = JSON.parse(saved);
    return new Date(value.expires_at) > now() ? value : null;
  }

  // Sign out on the server too, so the token is refused from now on, not only forgotten here.
  async function signOut() {
    const current = session();
    sessionStorage.removeItem(TOKEN);
    if (current) await request("POST", "/v1/auth/signout", { token: current.token }).catch(() => null);
  }

  // Sign a draft from GET /v1/cases/{id}/next after checking it names this key holder.
  async function signEnvelope(record, draft) {
    if (draft.actor.id !== record.principal || draft.actor.key !== record.keyId) {
      throw new Error("草稿中的签名人不是本人，拒绝签名。");
    }
    const unsigned = Object.assign({}, draft);
    delete unsigned.sig;
    const sig = await sign(record, ENVELOPE_PREFIX + canonical(unsigned));
    return canonical(Object.assign({}, unsigned, { sig }));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value; else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function table(headings, rows) {
    if (!rows.length) return el("p", { class: "empty" }, "暂无。");
    return el("table", { class: "list" },
      el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows));
  }

  // Human-readable failure: the code's Chinese text, then the code itself.
  function failureText(error) {
    const codes = error.codes && error.codes.length ? "（" + error.codes.join("、") + "）" : "";
    return (error.code ? error.code + "：" : "") + error.message + codes;
  }

  // The sign-in panel shared by the staff, admin and supervision pages: choose yourself by
  // name or 工号 from the directory, then use the key this browser holds for you, make one
  // here, or import your key file (opened here with its passphrase).
  function setupSignIn(onSignedIn) {
    const $ = (id) => document.getElementById(id);
    let record = null;
    let people = [];
    let pendingKey = null;
    const showKey = async () => {
      const principal = $("principal").value.trim();
      record = principal ? await loadKey(principal) : null;
      $("signin").disabled = !record;
      const person = people.find((p) => p.id === principal);
      const who = person ? person.name + "（工号 " + person.number + "）" : principal;
      $("key-status").textContent = record
        ? "本浏览器持有 " + who + " 的密钥（标识 " + record.keyId + "）。"
        : "本浏览器尚无该人员的密钥。";
      $("key-status").dataset.keyId = record ? record.keyId : "";
      $("enrol").hidden = !record;
      if (record) {
        $("enrol-command").textContent =
          "caseledger staff add-key " + record.principal + " --public-key " + record.publicKey;
      }
    };
    const fail = (error) => {
      $("signin-error").hidden = false;
      $("signin-error").textContent = "登录失败：" + failureText(error);
    };
    const choose = (principal) => { $("principal").value = principal; showKey(); };
    const fillPeople = () => {
      const wanted = $("person-filter").value.trim().toLowerCase();
      const shown = people.filter((p) => !wanted || p.name.includes(wanted) || p.number.toLowerCase().includes(wanted));
      $("person").replaceChildren(el("option", { value: "" }, shown.length ? "请选择（共 " + shown.length + " 人）" : "无匹配人员"),
        ...shown.map((p) => el("option", { value: p.id }, p.name + "（工号 " + p.number + "，" + p.unit + "）")));
      if (shown.length === 1) { $("person").value = shown[0].id; choose(shown[0].id); }
    };
    request("GET", "/v1/staff-names").then((found) => { people = found.staff; fillPeople(); }).catch(() => null);
    $("person-filter").addEventListener("input", fillPeople);
    $("person").addEventListener("change", () => { if ($("person").value) choose($("person").value); });
    $("principal").addEventListener("change", showKey);
    $("generate-key").addEventListener("click", async () => {
      const principal = $("principal").value.trim();
      if (!/^[a-z]+:[A-Za-z0-9._@-]{1,64}$/.test(principal)) { fail(new Error("请先选择本人，或填写人员标识，例如 staff:wang.li")); return; }
      await generateKey(principal).catch(fail);
      await showKey();
    });
    const openKey = async () => {
      if (!pendingKey) return;
      $("signin-error").hidden = true;
      $("key-status").textContent = "正在用口令打开密钥文件……";
      try {
        const imported = await importKeyFile(pendingKey, $("key-passphrase").value);
        pendingKey = null;
        $("key-passphrase").value = "";
        $("principal").value = imported.principal;
        if (people.some((p) => p.id === imported.principal)) $("person").value = imported.principal;
        await showKey();
      } catch (error) { await showKey(); fail(error); }
    };
    $("key-file").addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      pendingKey = await file.text();
      await openKey();
    });
    $("open-key").addEventListener("click", openKey);
    $("signin").addEventListener("click", async () => {
      $("signin-error").hidden = true;
      try { enter(record, await signIn(record)); } catch (error) { fail(error); }
    });
    $("signout").addEventListener("click", async () => { await signOut(); location.reload(); });
    const enter = (key, current) => {
      $("signin-panel").hidden = true;
      $("work").hidden = false;
      const person = people.find((p) => p.id === current.principal);
      $("who").textContent = person ? person.name + "（" + current.principal + "）" : current.principal;
      $("who").dataset.principal = current.principal;
      $("roles").textContent = "角色：" + Object.keys(current.roles).map((r) => ROLE_TEXT[r] || r).join("、");
      onSignedIn(key, current, person);
    };
    const current = session();
    if (current) {
      loadKey(current.principal).then((key) => { if (key) enter(key, current); });
    }
  }

  return { now, ROLE_TEXT, STEP_TEXT, STATUS_TEXT, FORMS, TABLE, commit, fileDigest, sha256hex, hex, b64, unb64, sign, canonical, utcSeconds, validityUntil, chinaTime, generateKey, importKeyFile, loadKey, forgetKey,
    request, signIn, session, signOut, signEnvelope, el, table, setupSignIn, failureText, ApiError };
})();
