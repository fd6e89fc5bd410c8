// Staff workbench. Every step's form comes from the step table the server renders into the
// page (ledger/steps.py and its forms, ledger/step_forms.py); none is kept here. A case is
// opened and read (timeline, applicant, materials and their files, time limit) before any
// step on it; the draft (GET /v1/cases/{id}/next) is filled in, shown in plain Chinese, and
// only then signed with this browser's key and posted. Files go through materials.js.
"use strict";

(() => {
  const { el, table, request, chinaTime, FORMS, STEP_TEXT, STATUS_TEXT, ROLE_TEXT } = CL;
  const CARD = { red: "红牌", yellow: "黄牌" };
  const QUEUE_ROLES = ["handler", "reviewer", "approver"];
  const $ = (id) => document.getElementById(id);
  let key = null;
  let session = null;
  let me = null;
  let matters = [];
  // Read once signed in; a new application's form lists them, so it waits for the answer.
  let mattersRead = Promise.resolve();

  function report(message, ok) {
    $("step-result").replaceChildren(el("p", { class: ok ? "notice good" : "notice bad" }, message));
  }

  // "剩余3个工作日" / "超期15个工作日", as people say it.
  function limitText(timing) {
    if (timing && (timing.warnings || []).includes("clock.calendar_unknown") && !timing.committed_deadline) {
      return `未定（${(timing.unknown_years || []).join("、")}年工作日历未发布）`;
    }
    // A suspended case's days left are not known until it resumes: say since when it stopped.
    if (timing && timing.paused) {
      const since = timing.suspended_since ? `（自${timing.suspended_since}起）` : "";
      return `中止，暂停计时${since}，已用${timing.used_days || 0}个工作日`;
    }
    if (!timing || timing.remaining_days === null || timing.remaining_days === undefined) return "—";
    const days = timing.remaining_days;
    const left = days >= 0 ? `剩余${days}个工作日` : `超期${-days}个工作日`;
    const until = timing.committed_deadline ? `承诺办结期限 ${timing.committed_deadline}，` : "";
    return until + left + (timing.paused ? "（中止，暂停计时）" : "");
  }

  function maskNumber(text) {
    if (text.length === 18 || text.length === 15) return text.slice(0, 6) + "*".repeat(text.length - 10) + text.slice(-4);
    return text.length <= 4 ? "*".repeat(text.length) : "*".repeat(text.length - 4) + text.slice(-4);
  }

  // Forms from the step table ---------------------------------------------------------------

  function fieldInput(field, fixed) {
    const name = field.name;
    let input;
    if (field.kind === "choice") {
      input = el("select", { name }, ...field.choices.map(([value, zh]) => el("option", { value }, zh)));
    } else if (field.kind === "text" || field.kind === "list") {
      input = el("textarea", { name, rows: field.kind === "list" ? "3" : "2", placeholder: field.kind === "list" ? "每行一项" : "" }, field.default);
    } else if (field.kind === "files") {
      input = el("input", { name, type: "file", multiple: "" });
    } else if (field.kind === "matter") {
      input = el("select", { name }, ...matters.map((m) => el("option", { value: m.code }, `${m.name}（${m.code}，第${m.version}版）`)));
    } else if (field.kind === "fixed") {
      input = el("output", { name }, fixed === undefined || fixed === null ? "—" : String(fixed));
    } else {
      input = el("input", { name, value: field.default, type: field.kind === "years" || field.kind === "number" ? "number" : "text" });
    }
    const label = el("label", { "data-field": name }, field.zh + (field.required ? "" : "（选填）"), input);
    if (field.when) label.dataset.when = field.when;
    return label;
  }

  function buildForm(step, fixed) {
    const form = el("form", { class: "step-form", "data-step": step });
    const fields = el("div", { class: "fields" }, ...FORMS[step].map((f) => fieldInput(f, fixed[f.name])));
    const sync = () => {
      for (const label of fields.querySelectorAll("[data-when]")) {
        const [other, value] = label.dataset.when.split("=");
        label.hidden = !form.elements[other] || form.elements[other].value !== value;
      }
    };
    const cancel = el("button", { type: "button", class: "cancel" }, "取消");
    cancel.addEventListener("click", () => form.remove());
    form.append(fields, el("div", { class: "buttons" }, el("button", { type: "submit" }, "预览签名内容"), cancel),
      el("div", { class: "preview" }));
    form.addEventListener("change", sync);
    sync();
    return form;
  }

  function setPath(body, name, value) {
    const parts = name.split(".");
    let at = body;
    for (const part of parts.slice(0, -1)) at = at[part] = at[part] || {};
    at[parts[parts.length - 1]] = value;
  }

  // The form's values into the body; the openings of what is committed; the lines to show.
  async function readForm(step, form, body, at) {
    const openings = [];
    const lines = [];
    const files = [];
    // The label without its hint in brackets, as the draft shows it.
    const shown = { push: ([label, value]) => lines.push([label.replace(/（[^（]*）$/, ""), value]) };
    for (const field of FORMS[step]) {
      const label = form.querySelector(`[data-field="${field.name}"]`);
      if (label.hidden) continue;
      const input = label.querySelector("[name]");
      if (field.kind === "fixed") { shown.push([field.zh, input.value]); continue; }
      if (field.kind === "files") {
        const chosen = Array.from(input.files);
        if (!chosen.length && field.required) throw new Error(`请选择：${field.zh}`);
        const materials = [];
        for (const file of chosen) {
          const sha256 = await CL.fileDigest(file);
          materials.push({ name: file.name, sha256 });
          files.push({ file, sha256 });
        }
        setPath(body, field.name, materials);
        shown.push([field.zh, materials.map((m) => `${m.name}（SHA-256 ${m.sha256.slice(0, 16)}…）`).join("；")]);
        continue;
      }
      const raw = input.value.trim();
      if (!raw) {
        if (field.required) throw new Error(`请填写：${field.zh}`);
        continue;
      }
      if (field.kind === "choice") {
        setPath(body, field.name, raw);
        shown.push([field.zh, field.choices.find(([v]) => v === raw)[1]]);
      } else if (field.kind === "list") {
        const items = raw.split("\n").map((x) => x.trim()).filter(Boolean);
        setPath(body, field.name, items);
        shown.push([field.zh, items.map((x, i) => `${i + 1}. ${x}`).join("　")]);
      } else if (field.kind === "matter") {
        const matter = matters.find((m) => m.code === raw);
        body.matter = { code: matter.code, version: matter.version };
        shown.push([field.zh, `${matter.name}（${matter.code}，第${matter.version}版）`]);
      } else if (field.kind === "identity") {
        if (body.applicant.kind === "person") {
          const opening = await CL.commit(raw);
          openings.push(opening);
          body.applicant.id_commitment = opening.commitment;
          shown.push([field.zh, maskNumber(opening.value) + "（签名记录只载承诺值，号码存本机关个人信息表）"]);
        } else {
          body.applicant.id_number = raw;
          shown.push([field.zh, raw]);
        }
      } else if (field.kind === "address") {
        const opening = await CL.commit(raw);
        openings.push(opening);
        body.address_commitment = opening.commitment;
        shown.push([field.zh, raw + "（签名记录只载承诺值，地址存本机关个人信息表）"]);
      } else if (field.kind === "number") {
        setPath(body, field.name, Number(raw));
        shown.push([field.zh, raw]);
      } else if (field.kind === "years") {
        const years = Number(raw);
        if (body.outcome === "approved" && years > 0) {
          body.validity = { from: at, until: CL.validityUntil(at, years) };
          shown.push([field.zh, `${years}年（至 ${chinaTime(body.validity.until).slice(0, 10)}）`]);
        }
      } else {
        setPath(body, field.name, raw);
        shown.push([field.zh, raw]);
      }
    }
    return { openings, shown: lines, files };
  }

  // A step's body as one line people read (the timeline's 意见与内容).
  function bodyText(step, body) {
    const parts = [];
    for (const field of FORMS[step] || []) {
      const value = field.name.split(".").reduce((v, k) => (v && typeof v === "object" ? v[k] : undefined), body);
      if (value === undefined || value === null || value === "" || field.kind === "address") continue;
      let text = value;
      if (field.kind === "choice") text = (field.choices.find(([v]) => v === value) || [value, value])[1];
      else if (field.kind === "files") text = value.map((m) => m.name).join("、");
      else if (field.kind === "matter") text = value.code;
      else if (Array.isArray(value)) text = value.join("、");
      else if (field.name === "level") text = `第${value}级`;
      parts.push(`${field.zh.replace(/（.*）$/, "")}：${text}`);
    }
    if (step === "ResultIssued") parts.push(`已盖章出证（SHA-256 ${String(body.pdf_sha256).slice(0, 16)}…）`);
    if (step === "DocumentIssued") parts.push(`出具文书 ${body.document_number || ""}`);
    return parts.join("；");
  }

  function preview(form, envelope, shown, caseText, onConfirm) {
    const signer = `${me ? me.name : envelope.actor.id}（${ROLE_TEXT[envelope.actor.role] || envelope.actor.role}）`;
    const lines = [["办理步骤", STEP_TEXT[envelope.type] || envelope.type], ["案件", caseText], ["签名人", signer],
      ["签署时间", chinaTime(envelope.at) + "（北京时间）"], ...shown];
    const confirm = el("button", { type: "button", class: "confirm" }, "确认无误，签名提交");
    confirm.addEventListener("click", () => { confirm.disabled = true; onConfirm(); });
    form.querySelector(".preview").replaceChildren(
      el("h3", {}, "请核对将以您的密钥签名的内容"),
      el("table", { class: "detail draft-text" }, ...lines.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))),
      el("details", {}, el("summary", {}, "签名的原始内容（JSON）"), el("pre", {}, JSON.stringify(envelope, null, 2))),
      confirm);
  }

  async function submit(envelope, openings, files, after) {
    try {
      // The files first: a step is signed only once every file it names is kept.
      if (files.length) await CLM.keepAll(files, session.token);
      const text = await CL.signEnvelope(key, envelope);
      const done = await request("POST", "/v1/envelopes", { raw: text, openings });
      await loadQueues();
      const number = await openCase(envelope.stream.slice(5));
      report(`已签名提交：${number} ${STEP_TEXT[envelope.type]}（第 ${done.seq} 步，日志序号 ${done.leaf_index}，哈希 ${done.hash.slice(0, 16)}…）`, true);
      if (after) after();
    } catch (error) {
      report("未能提交：" + CL.failureText(error), false);
    }
  }

  // A case, read before signing -------------------------------------------------------------

  function rows(pairs) {
    return el("table", { class: "detail" }, ...pairs.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v === null || v === undefined ? "—" : v))));
  }

  // A material as the case names it: its kept file opened in the page (checked against the
  // signed SHA-256 first), or said plainly not to be kept.
  function materialRow(m) {
    let name = m.name;
    if (m.url) {
      name = el("a", { href: m.url, class: "material-link" }, m.name);
      name.addEventListener("click", (event) => { event.preventDefault(); CLM.show($("material-view"), m, session.token); });
    }
    const kept = m.stored === true ? (m.url ? "已存档" : "已存档（您的角色不能查看）")
      : m.stored === false ? "未存档" : "无法查询材料库";
    return el("tr", { "data-sha256": m.sha256, "data-stored": String(m.stored) },
      el("td", {}, name), el("td", { class: "hash" }, m.sha256), el("td", {}, `第${m.seq}步`),
      el("td", { class: m.stored === false ? "unkept" : "kept", title: m.stored === false ? "签名记录载明了该材料，但文件未上传存档" : "" }, kept));
  }

  async function openCase(caseId) {
    const view = await request("GET", `/v1/cases/${caseId}/view`, { token: session.token });
    const c = view.case;
    const timing = c.timing || {};
    const limit = el("span", { id: "case-limit", class: timing.card ? "card-" + timing.card : "" },
      limitText(timing) + (timing.card ? `（${CARD[timing.card]}）` : ""));
    const timeline = view.timeline.map((s) => el("tr", { "data-step": s.type, "data-seq": String(s.seq) },
      el("td", {}, s.seq), el("td", {}, STEP_TEXT[s.type] || s.type), el("td", {}, s.name),
      el("td", {}, ROLE_TEXT[s.role] || s.role), el("td", {}, chinaTime(s.at)), el("td", { class: "opinion" }, bodyText(s.type, s.body))));
    const materials = view.materials.map(materialRow);
    const actions = view.actions.map((a) => {
      const button = el("button", { type: "button", "data-step": a.step }, STEP_TEXT[a.step] || a.step);
      button.addEventListener("click", () => openAction(view, a.step).catch((e) => report("无法办理：" + CL.failureText(e), false)));
      return button;
    });
    CLM.release();
    const box = $("case");
    box.hidden = false;
    box.dataset.caseId = caseId;
    box.dataset.status = c.status;
    box.replaceChildren(
      el("h2", {}, `案件 ${c.case_number}`),
      rows([["事项", c.matter_name || c.matter], ["办理状态", STATUS_TEXT[c.status] || c.status], ["办理时限", limit],
        ["申请时间", chinaTime(c.applied_at) + "（北京时间）"], ...(view.query_code ? [["查询密码", view.query_code]] : [])]),
      el("h3", {}, "申请人"),
      el("div", { id: "case-applicant" }, rows([["名称或姓名", view.applicant.name],
        [view.applicant.identifier_label, view.applicant.identifier],
        ["类型", view.applicant.kind === "person" ? "自然人" : "法人或其他组织"]])),
      el("h3", {}, "申请材料"), el("div", { id: "case-materials" }, table(["文件名", "SHA-256", "提交于", "存档"], materials)),
      el("div", { id: "material-view", class: "material-view", hidden: "" }),
      el("h3", {}, "办理经过"), el("div", { id: "timeline" }, table(["序号", "步骤", "办理人", "角色", "时间（北京时间）", "意见与内容"], timeline)),
      el("h3", {}, "您现在可以办理"),
      actions.length ? el("div", { class: "actions", id: "case-actions" }, ...actions) : el("p", { class: "empty", id: "case-actions" }, "您现在不能对该案件办理任何步骤。"),
      el("div", { id: "action-form" }));
    return c.case_number;
  }

  async function openAction(view, step) {
    const caseId = view.case.case_id;
    const first = await request("GET", `/v1/cases/${caseId}/next?type=${step}`, { token: session.token });
    const form = buildForm(step, first.draft.body);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      (async () => {
        // A fresh draft: its time is now, and the case may have moved on meanwhile.
        const answer = await request("GET", `/v1/cases/${caseId}/next?type=${step}`, { token: session.token });
        const body = Object.assign({}, answer.draft.body);
        const { openings, shown, files } = await readForm(step, form, body, answer.draft.at);
        const envelope = Object.assign({}, answer.draft, { body });
        preview(form, envelope, shown, `${view.case.case_number}（${view.case.matter_name || view.case.matter}）`, () => submit(envelope, openings, files));
      })().catch((error) => report("未能生成签名内容：" + CL.failureText(error), false));
    });
    $("action-form").replaceChildren(el("h3", {}, `办理：${STEP_TEXT[step]}`), form);
  }

  // Window application (收件) ----------------------------------------------------------------

  function openApplication() {
    const form = buildForm("Applied", {});
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      (async () => {
        const at = CL.utcSeconds(CL.now());
        const body = {};
        const { openings, shown, files } = await readForm("Applied", form, body, at);
        const envelope = { v: 1, stream: "case:" + crypto.randomUUID(), seq: 1, type: "Applied", at,
          actor: { id: key.principal, role: "handler", key: key.keyId }, prev: null, body };
        preview(form, envelope, shown, "新案件（提交后生成受理号）", () => submit(envelope, openings, files, () => form.remove()));
      })().catch((error) => report("未能生成签名内容：" + CL.failureText(error), false));
    });
    $("application").replaceChildren(form);
  }

  // Queues ------------------------------------------------------------------------------------

  function row(item) {
    const timing = item.timing || {};
    const open = el("button", { type: "button", "data-case": item.case_number }, "查看并办理");
    open.addEventListener("click", () => openCase(item.case_id).catch((e) => report("无法打开案件：" + CL.failureText(e), false)));
    return el("tr", { "data-case-id": item.case_id },
      el("td", {}, item.case_number), el("td", {}, item.matter_name || item.matter),
      el("td", {}, item.applicant), el("td", {}, STATUS_TEXT[item.status] || item.status),
      el("td", {}, STEP_TEXT[item.next_step] || item.next_step || "—"),
      el("td", { class: timing.card ? "card-" + timing.card : "" }, limitText(timing) + (timing.card ? `（${CARD[timing.card]}）` : "")),
      el("td", {}, chinaTime(item.applied_at)), el("td", { class: "action" }, open));
  }

  async function loadQueues() {
    const sections = [];
    for (const role of QUEUE_ROLES) {
      if (!session.roles[role]) continue;
      const queue = await request("GET", `/v1/queues/${role}`, { token: session.token });
      sections.push(el("section", { class: "queue", id: "queue-" + role },
        el("h2", {}, `待办：${ROLE_TEXT[role]}（${CL.TABLE.roles[role].duty}）·${queue.cases.length}件`),
        table(["受理号", "事项", "申请人", "状态", "待办步骤", "办理时限", "申请时间", "办理"], queue.cases.map(row))));
    }
    if (!sections.length) sections.push(el("p", { class: "empty" }, "您没有经办、审查或审批角色。"));
    $("queues").replaceChildren(...sections);
  }

  // The case id a case number names (ledger/state.py case_id_of_number), or null.
  function caseIdOf(number) {
    const found = /^\d{8}-([0-9A-Fa-f]{32})$/.exec(number.trim());
    if (!found) return null;
    const h = found[1].toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("new-application").addEventListener("click", () => { mattersRead.then(openApplication); });
    $("find-case").addEventListener("submit", (event) => {
      event.preventDefault();
      const caseId = caseIdOf($("find-number").value);
      if (!caseId) { report("受理号格式不正确：应为 8 位日期、短横线和 32 位十六进制数字。", false); return; }
      openCase(caseId).catch((error) => report("无法打开案件：" + CL.failureText(error), false));
    });
    CL.setupSignIn((record, current, person) => {
      key = record;
      session = current;
      me = person || null;
      $("window").hidden = !session.roles.handler;
      mattersRead = request("GET", "/v1/matters").then((found) => { matters = found.matters; }).catch(() => null);
      loadQueues().catch((error) => report("无法读取待办：" + CL.failureText(error), false));
    });
  });
})();
