// Admin console: each change is a directory envelope (StaffEnrolled, KeyAdded, RoleGranted,
// RoleRevoked, MatterDefined, MatterRevised) with the same body the command line signs
// (cli/client/_directory.py, ledger/client.py), signed here with the admin's key and posted
// to POST /v1/directory. A staff member's identity number is committed here; the number goes
// beside the envelope to the office's private table, never into the signed body.
"use strict";

(() => {
  const { el, table, request, chinaTime, ROLE_TEXT } = CL;
  const $ = (id) => document.getElementById(id);
  const GRANTABLE = ["handler", "reviewer", "approver", "supervisor", "admin", "seal_service", "department"];
  let key = null;
  let session = null;
  let directory = null;

  function report(message, ok) {
    $("admin-result").replaceChildren(el("p", { class: ok ? "notice good" : "notice bad" }, message));
  }

  const chinaDay = (day) => CL.utcSeconds(new Date(day + "T00:00:00+08:00"));
  const randomHex = (n) => CL.hex(crypto.getRandomValues(new Uint8Array(n)));

  // Sign `changes` ([type, body] …) as consecutive envelopes on the directory's head.
  async function signChanges(changes, openings) {
    const head = await request("GET", "/v1/directory", { token: session.token });
    let seq = head.seq;
    let prev = head.head_hash;
    const done = [];
    for (const [type, body] of changes) {
      const envelope = { v: 1, stream: "directory:" + head.org, seq: seq + 1, type, at: CL.utcSeconds(CL.now()),
        actor: { id: key.principal, role: "admin", key: key.keyId }, prev, body };
      const text = await CL.signEnvelope(key, envelope);
      const answer = await request("POST", "/v1/directory", { raw: text, openings: done.length ? [] : openings });
      seq = answer.seq;
      prev = answer.hash;
      done.push(`${type}（目录第 ${answer.seq} 条）`);
    }
    return done;
  }

  async function act(what, changes, openings = []) {
    try {
      const done = await signChanges(changes, openings);
      report(`已签名提交：${what}：${done.join("、")}`, true);
      await loadDirectory();
      return true;
    } catch (error) {
      report(`未能提交：${what}：` + CL.failureText(error), false);
      return false;
    }
  }

  async function publicKeyFrom(form, principal) {
    const file = form.elements.key_file.files[0];
    if (file) {
      let doc;
      try { doc = JSON.parse(await file.text()); } catch (e) { throw new Error("这不是 caseledger 密钥文件。"); }
      if (doc.kind !== "caseledger/key" || !doc.public_key) throw new Error("这不是 caseledger 密钥文件。");
      if (doc.principal !== principal) throw new Error(`该密钥文件属于 ${doc.principal}，不是 ${principal}。`);
      return doc.public_key;
    }
    return form.elements.public_key.value.trim() || null;
  }

  async function enrol(form) {
    const number = form.elements.number.value.trim();
    const principal = "staff:" + number;
    if (!/^staff:[A-Za-z0-9._@-]{1,64}$/.test(principal)) { report("工号只能包含字母、数字和 . _ @ -", false); return; }
    let publicKey;
    try { publicKey = await publicKeyFrom(form, principal); } catch (error) { report(error.message, false); return; }
    const opening = await CL.commit(form.elements.id_number.value);
    const changes = [["StaffEnrolled", { staff: principal, name: form.elements.name.value.trim(),
      unit: form.elements.unit.value.trim(), id_commitment: opening.commitment }]];
    if (publicKey) changes.push(["KeyAdded", { staff: principal, public_key: publicKey }]);
    if (await act(`登记 ${form.elements.name.value.trim()}`, changes, [opening])) form.reset();
  }

  async function addKey(form) {
    const staff = form.elements.staff.value;
    let publicKey;
    try { publicKey = await publicKeyFrom(form, staff); } catch (error) { report(error.message, false); return; }
    if (!publicKey) { report("请选择密钥文件或填写公钥。", false); return; }
    if (await act(`为 ${staff} 添加密钥`, [["KeyAdded", { staff, public_key: publicKey }]])) form.reset();
  }

  async function voidKey(form) {
    const keyId = form.elements.key_id.value;
    const reason = form.elements.reason.value.trim();
    if (await act(`作废密钥 ${keyId}`, [["KeyRevoked", { key_id: keyId, reason }]])) form.reset();
  }

  async function grant(form) {
    const staff = form.elements.staff.value;
    const role = form.elements.role.value;
    const matters = Array.from(form.elements.matters.selectedOptions, (o) => o.value);
    const person = directory.staff.find((s) => s.id === staff);
    const body = {
      grant: `g-${staff.split(":")[1]}-${role}-${randomHex(3)}`,
      staff, role, matters: matters.length ? matters : ["*"], unit: person ? person.unit : "行政审批科",
      valid_from: form.elements.from.value ? chinaDay(form.elements.from.value) : CL.utcSeconds(CL.now()),
      valid_until: form.elements.until.value ? chinaDay(form.elements.until.value) : null,
      qualification: form.elements.qualification.value.trim() || null,
    };
    await act(`授予 ${person ? person.name : staff} ${ROLE_TEXT[role]}角色`, [["RoleGranted", body]]);
  }

  async function matter(form) {
    const e = form.elements;
    const latest = directory.matters.filter((m) => m.code === e.code.value.trim()).sort((a, b) => b.version - a.version)[0];
    const lines = (text) => text.split("\n").map((x) => x.trim()).filter(Boolean);
    const body = {
      code: e.code.value.trim(), version: latest ? latest.version + 1 : 1, name: e.name.value.trim(),
      legal_basis: e.legal_basis.value.trim(),
      review_levels: lines(e.review_levels.value).map((role, i) => ({ level: i + 1, role })),
      statutory_days: Number(e.statutory_days.value), committed_days: Number(e.committed_days.value),
      required_materials: lines(e.required_materials.value), result_template: e.result_template.value.trim(),
      seal_issued: e.seal_issued.value === "true", qualification: e.qualification.value.trim() || null,
    };
    const type = latest ? "MatterRevised" : "MatterDefined";
    await act(`${latest ? "修订" : "定义"}事项 ${body.name}（第${body.version}版）`, [[type, body]]);
  }

  function fillMatter(form) {
    const code = form.elements.existing.value;
    const found = directory.matters.filter((m) => m.code === code).sort((a, b) => b.version - a.version)[0];
    if (!found) return;
    const e = form.elements;
    e.code.value = found.code; e.name.value = found.name; e.legal_basis.value = found.legal_basis;
    e.review_levels.value = found.review_levels.join("\n");
    e.statutory_days.value = found.statutory_days; e.committed_days.value = found.committed_days;
    e.required_materials.value = (found.required_materials || []).join("\n");
    e.result_template.value = found.result_template; e.seal_issued.value = String(found.seal_issued);
    e.qualification.value = found.qualification || "";
  }

  function revokeCell(g) {
    if (g.revoked_at) return el("td", {}, "已撤销 " + chinaTime(g.revoked_at));
    const reason = el("input", { placeholder: "撤销理由", class: "reason" });
    const button = el("button", { type: "button", "data-grant": g.grant }, "撤销授权");
    button.addEventListener("click", () => {
      if (!reason.value.trim()) { report("请填写撤销理由。", false); return; }
      act(`撤销授权 ${g.grant}`, [["RoleRevoked", { grant: g.grant, reason: reason.value.trim() }]]);
    });
    return el("td", {}, reason, button);
  }

  async function loadDirectory() {
    directory = await request("GET", "/v1/directory", { token: session.token });
    const name = (id) => (directory.staff.find((s) => s.id === id) || { name: id }).name;
    const keys = (id) => directory.keys.filter((k) => k.owner === id).map((k) => k.key_id + (k.void_from ? "（已作废）" : "")).join("、");
    const staffRows = directory.staff.map((s) => el("tr", { "data-staff": s.id }, el("td", {}, s.id.split(":")[1]),
      el("td", {}, s.name), el("td", {}, s.unit), el("td", {}, keys(s.id) || "—"), el("td", {}, chinaTime(s.recorded_at))));
    const grantRows = directory.grants.map((g) => el("tr", { "data-grant": g.grant }, el("td", {}, name(g.staff)),
      el("td", {}, ROLE_TEXT[g.role] || g.role), el("td", {}, g.matters.join("、") === "*" ? "全部事项" : g.matters.join("、")),
      el("td", {}, chinaTime(g.valid_from) + " 起" + (g.valid_until ? "，至 " + chinaTime(g.valid_until) : "")), revokeCell(g)));
    const matterRows = directory.matters.map((m) => el("tr", { "data-matter": `${m.code}/${m.version}` }, el("td", {}, m.code),
      el("td", {}, `第${m.version}版`), el("td", {}, m.name), el("td", {}, m.review_levels.map((r) => ROLE_TEXT[r] || r).join(" → ") || "无"),
      el("td", {}, `${m.committed_days}/${m.statutory_days}个工作日`)));
    $("directory-tables").replaceChildren(
      el("h3", {}, "工作人员"), table(["工号", "姓名", "科室", "密钥", "登记时间"], staffRows),
      el("h3", {}, "角色授权"), table(["人员", "角色", "事项", "有效期", "状态"], grantRows),
      el("h3", {}, "事项"), table(["编码", "版本", "名称", "审查层级", "承诺/法定期限"], matterRows));
    const grantForm = $("grant-form");
    const people = () => directory.staff.map((s) => el("option", { value: s.id }, `${s.name}（工号 ${s.id.split(":")[1]}）`));
    grantForm.elements.staff.replaceChildren(...people());
    $("key-form").elements.staff.replaceChildren(...people());
    $("void-form").elements.key_id.replaceChildren(...directory.keys.filter((k) => !k.void_from).map((k) =>
      el("option", { value: k.key_id }, `${k.key_id}（${name(k.owner)}）`)));
    const codes = [...new Set(directory.matters.map((m) => m.code))];
    grantForm.elements.matters.replaceChildren(...codes.map((c) => el("option", { value: c }, c)));
    $("matter-form").elements.existing.replaceChildren(el("option", { value: "" }, "（新事项）"), ...codes.map((c) => el("option", { value: c }, c)));
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("grant-form").elements.role.replaceChildren(...GRANTABLE.map((r) => el("option", { value: r }, `${ROLE_TEXT[r] || r}（${r}）`)));
    const bind = (id, handler) => $(id).addEventListener("submit", (event) => { event.preventDefault(); handler($(id)); });
    bind("enrol-form", enrol);
    bind("grant-form", grant);
    bind("key-form", addKey);
    bind("void-form", voidKey);
    bind("matter-form", matter);
    $("matter-form").elements.existing.addEventListener("change", () => fillMatter($("matter-form")));
    CL.setupSignIn((record, current) => {
      key = record;
      session = current;
      if (!session.roles.admin) { report("您没有管理员角色：只有管理员能变更人员目录。", false); return; }
      loadDirectory().catch((error) => report("无法读取人员目录：" + CL.failureText(error), false));
    });
  });
})();
