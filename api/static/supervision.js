// E-supervision: overdue (red card) and near-due cases, and on-time statistics per matter/unit.
"use strict";

(() => {
  const { el, table, request } = CL;
  const STATUS = CL.STATUS_TEXT;
  const CARD = { red: "红牌", yellow: "黄牌" };
  let session = null;

  function caseRow(item) {
    const timing = item.timing || {};
    return el("tr", { "data-case-id": item.case_id },
      el("td", {}, item.case_number), el("td", {}, item.matter_name || item.matter),
      el("td", {}, item.unit || "—"), el("td", {}, STATUS[item.status] || item.status),
      el("td", {}, item.next_step ? `${CL.STEP_TEXT[item.next_step] || item.next_step}（${CL.ROLE_TEXT[item.next_role] || item.next_role}）` : "—"),
      el("td", {}, timing.committed_deadline || "—"),
      el("td", {}, timing.remaining_days === null || timing.remaining_days === undefined ? "—" : String(timing.remaining_days)),
      el("td", { class: timing.card ? "card-" + timing.card : "" }, CARD[timing.card] || ""),
      el("td", {}, (timing.overran_stages || []).join("、")));
  }

  function statsRow(row) {
    const rate = row.on_time_rate === null || row.on_time_rate === undefined ? "—" : (row.on_time_rate * 100).toFixed(1) + "%";
    return el("tr", {}, el("td", {}, row.matter_name || row.matter), el("td", {}, row.unit),
      el("td", {}, row.cases), el("td", {}, row.decided), el("td", {}, row.decided_late),
      el("td", {}, rate), el("td", {}, row.open_overdue), el("td", {}, row.yellow_cards));
  }

  const CASE_HEADINGS = ["受理号", "事项", "单位", "状态", "下一步", "承诺办结期限", "剩余工作日", "提醒", "超时环节"];

  async function load() {
    const params = new URLSearchParams();
    const matter = document.getElementById("filter-matter").value.trim();
    const unit = document.getElementById("filter-unit").value.trim();
    if (matter) params.set("matter", matter);
    if (unit) params.set("unit", unit);
    const query = params.toString() ? "?" + params : "";
    const get = (path) => request("GET", path, { token: session.token });
    try {
      const [overdue, near, stats] = await Promise.all([
        get("/v1/supervision/overdue" + query), get("/v1/supervision/near-due" + query),
        get("/v1/supervision/stats")]);
      document.getElementById("overdue").replaceChildren(table(CASE_HEADINGS, overdue.cases.map(caseRow)));
      document.getElementById("near-due").replaceChildren(table(CASE_HEADINGS, near.cases.map(caseRow)));
      document.getElementById("stats").replaceChildren(
        el("p", { class: "hint" }, "统计日期：" + stats.as_of),
        table(["事项", "单位", "办件", "已决定", "超期决定", "按时率", "在办超期", "黄牌"], stats.rows.map(statsRow)));
    } catch (error) {
      const message = error.status === 403 ? "需要监察人员角色。" : `${error.code || ""} ${error.message}`;
      document.getElementById("overdue").replaceChildren(el("p", { class: "notice bad" }, message));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("refresh").addEventListener("click", load);
    CL.setupSignIn((record, current) => { session = current; load(); });
  });
})();
