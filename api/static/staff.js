// Staff workbench: queues of the signed-in staff member's roles; each step is drafted by the
// server (GET /v1/cases/{id}/next), filled in here, signed with the browser's key and posted.
"use strict";

(() => {
  const { el, table, request, chinaTime } = CL;
  const ROLES = { handler: "经办（受理、送达）", reviewer: "审查", approver: "审批（决定）" };
  const STEPS = CL.STEP_TEXT;
  const STATUS = CL.STATUS_TEXT;
  const CARD = { red: "红牌", yellow: "黄牌" };
  let key = null;
  let session = null;

  // The fields each step's form asks for: [name, label, kind, default].
  const FIELDS = {
    Accepted: [["opinion", "受理意见", "text", "材料齐全，符合法定形式，予以受理。"]],
    Reviewed: [
      ["opinion", "审查意见", ["agree", "同意"], ["disagree", "不同意"]],
      ["comments", "审查说明", "text", ""],
      ["basis", "依据", "line", ""],
    ],
    Decided: [
      ["outcome", "决定", ["approved", "准予许可"], ["denied", "不予许可"]],
      ["decision", "决定内容", "text", "准予行政许可。"],
      ["legal_basis", "法律依据", "line", "《中华人民共和国行政许可法》第三十八条"],
      ["valid_years", "有效期（年，准予时）", "line", "5"],
    ],
    Delivered: [
      ["channel", "送达方式", ["window", "窗口领取"], ["post", "邮寄"], ["electronic", "电子送达"]],
      ["recipient", "签收人", "line", ""],
    ],
    Resumed: [["reason", "恢复原因", "text", ""]],
  };

  function field([name, label, kind, ...rest]) {
    let input;
    if (Array.isArray(kind)) {
      input = el("select", { name }, ...[kind, ...rest].map(([v, text]) => el("option", { value: v }, text)));
    } else if (kind === "text") {
      input = el("textarea", { name, rows: "2" }, rest[0] || "");
    } else {
      input = el("input", { name, value: rest[0] || "" });
    }
    return el("label", {}, label, input);
  }

  function bodyFrom(step, form, draft) {
    const data = Object.fromEntries(new FormData(form).entries());
    const body = Object.assign({}, draft.body);
    for (const [name] of FIELDS[step]) if (name !== "valid_years") body[name] = data[name];
    if (step === "Decided" && data.outcome === "approved" && Number(data.valid_years) > 0) {
      body.validity = { from: draft.at, until: CL.validityUntil(draft.at, Number(data.valid_years)) };
    }
    return body;
  }

  function report(message, ok) {
    const box = document.getElementById("step-result");
    box.replaceChildren(el("p", { class: ok ? "notice good" : "notice bad" }, message));
  }

  async function take(item, form) {
    const step = item.next_step;
    try {
      const answer = await request("GET", `/v1/cases/${item.case_id}/next?type=${step}`, { token: session.token });
      const draft = Object.assign({}, answer.draft, { body: bodyFrom(step, form, answer.draft) });
      const text = await CL.signEnvelope(key, draft);
      const done = await request("POST", "/v1/envelopes", { raw: text });
      report(`已签名提交：${item.case_number} ${STEPS[step] || step}（第 ${done.seq} 步，日志序号 ${done.leaf_index}，哈希 ${done.hash.slice(0, 16)}…）`, true);
      await loadQueues();
    } catch (error) {
      const codes = error.codes && error.codes.length ? "（" + error.codes.join("、") + "）" : "";
      report(`未能提交：${error.code || ""} ${error.message}${codes}`, false);
    }
  }

  function openForm(item, cell) {
    const form = document.getElementById("step-form-template").content.firstElementChild.cloneNode(true);
    form.querySelector(".fields").append(...FIELDS[item.next_step].map(field));
    form.addEventListener("submit", (event) => { event.preventDefault(); take(item, form); });
    form.querySelector(".cancel").addEventListener("click", () => form.remove());
    cell.append(form);
  }

  function row(item) {
    const timing = item.timing || {};
    const action = el("td", { class: "action" });
    if (FIELDS[item.next_step]) {
      const button = el("button", { type: "button", "data-case": item.case_number }, STEPS[item.next_step] || item.next_step);
      button.addEventListener("click", () => { if (!action.querySelector("form")) openForm(item, action); });
      action.append(button);
    }
    const left = timing.remaining_days === null || timing.remaining_days === undefined ? "" : `（剩 ${timing.remaining_days} 个工作日）`;
    return el("tr", { "data-case-id": item.case_id },
      el("td", {}, item.case_number), el("td", {}, item.matter_name || item.matter),
      el("td", {}, item.applicant), el("td", {}, STATUS[item.status] || item.status),
      el("td", {}, (timing.committed_deadline || ((timing.warnings || []).includes("clock.calendar_unknown")
        ? `未定（${(timing.unknown_years || []).join("、")}年工作日历未发布）` : "—")) + left),
      el("td", { class: timing.card ? "card-" + timing.card : "" }, CARD[timing.card] || ""),
      el("td", {}, chinaTime(item.applied_at)), action);
  }

  async function loadQueues() {
    const box = document.getElementById("queues");
    const sections = [];
    for (const role of Object.keys(ROLES)) {
      if (!session.roles[role]) continue;
      const queue = await request("GET", `/v1/queues/${role}`, { token: session.token });
      sections.push(el("section", { class: "queue", id: "queue-" + role },
        el("h2", {}, `待办：${ROLES[role]}（${queue.cases.length}）`),
        table(["受理号", "事项", "申请人", "状态", "承诺办结期限", "提醒", "申请时间", "办理"], queue.cases.map(row))));
    }
    if (!sections.length) sections.push(el("p", { class: "empty" }, "您没有经办、审查或审批角色。"));
    box.replaceChildren(...sections);
  }

  document.addEventListener("DOMContentLoaded", () => {
    CL.setupSignIn((record, current) => {
      key = record;
      session = current;
      loadQueues().catch((error) => report(`无法读取待办：${error.code || ""} ${error.message}`, false));
    });
  });
})();
