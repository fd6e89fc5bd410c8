// Sealed result check: the chosen PDF goes to POST /v1/verify; the verdict is shown here.
"use strict";

(() => {
  const { el } = CL;
  const VERDICT = { PASSED: "核验通过", FAILED: "核验未通过", INDETERMINATE: "无法确定" };
  const STATUS = { passed: "通过", failed: "未通过", indeterminate: "无法确定" };
  const CHECKS = {
    "seal.integrity": "印章完整性", "seal.chain": "证书链（信任文件中的印章根证书）",
    "seal.revocation": "证书吊销状态", "seal.modifications": "盖章后未被篡改",
    "receipt.present": "附带办件凭证", "receipt.signatures": "各步骤签名",
    "receipt.rules": "办理规则（顺序、角色、职责分离）", "receipt.inclusion": "已记入公开日志",
    "checkpoint.signature": "日志检查点签名", "checkpoint.witnesses": "见证方联署",
    "document.matches": "文档内容与凭证一致", "result.status": "当前状态（未被撤销或替代）",
    "document.issuer": "出具机关",
  };
  const ROLE = CL.ROLE_TEXT;
  const OUTCOME = { approved: "准予许可", denied: "不予许可" };

  function show(verdict) {
    const rows = verdict.checks.map((check) => el("tr", { class: "check-" + check.status, "data-check": check.id },
      el("td", {}, CHECKS[check.id] || check.id), el("td", { class: "status" }, STATUS[check.status] || check.status),
      el("td", { class: "detail-text" }, check.detail)));
    const parts = [el("p", { class: "verdict verdict-" + verdict.verdict, id: "verdict-text" }, VERDICT[verdict.verdict] || verdict.verdict)];
    if (verdict.case && verdict.verdict === "PASSED") {
      parts.push(el("table", { class: "detail" },
        el("tr", {}, el("th", {}, "受理号"), el("td", {}, verdict.case.number || verdict.case.id || "—")),
        el("tr", {}, el("th", {}, "事项"), el("td", {}, verdict.case.matter || "—")),
        el("tr", {}, el("th", {}, "办理结果"), el("td", {}, OUTCOME[verdict.case.outcome] || verdict.case.outcome || "—")),
        el("tr", {}, el("th", {}, "决定时间"), el("td", {}, CL.chinaTime(verdict.case.decided_at)))));
    } else if (verdict.case) {
      // A document that did not pass is not shown as if its result held.
      parts.push(el("p", { class: "notice bad", id: "not-relied" },
        "该文件未通过核验，其所载办理结果不能作为依据。受理号：" + (verdict.case.number || verdict.case.id || "—")));
    }
    if (verdict.timeline && verdict.timeline.length) {
      const steps = verdict.timeline.map((step) => el("tr", { "data-step": step.step },
        el("td", {}, CL.STEP_TEXT[step.step] || step.step), el("td", {}, step.actor), el("td", {}, ROLE[step.role] || step.role),
        el("td", {}, CL.chinaTime(step.at))));
      parts.push(el("h3", {}, "签署步骤"), el("table", { class: "list", id: "verdict-steps" },
        el("thead", {}, el("tr", {}, el("th", {}, "步骤"), el("th", {}, "签署人"), el("th", {}, "角色"), el("th", {}, "时间（北京时间）"))),
        el("tbody", {}, ...steps)));
    }
    parts.push(el("table", { class: "list" }, el("thead", {}, el("tr", {}, el("th", {}, "检查项"), el("th", {}, "结果"), el("th", {}, "说明"))),
      el("tbody", {}, ...rows)));
    document.getElementById("verdict").replaceChildren(...parts);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("verify-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = document.getElementById("verdict");
      box.replaceChildren(el("p", { class: "notice" }, "正在核验…"));
      try {
        const response = await fetch("/v1/verify", { method: "POST", body: new FormData(form) });
        const data = await response.json().catch(() => null);
        if (!response.ok) throw new Error((data && data.message) || "HTTP " + response.status);
        show(data);
      } catch (error) {
        box.replaceChildren(el("p", { class: "notice bad", id: "verdict-text" }, "无法核验：" + error.message));
      }
    });
  });
})();
