// E-supervision of the reform modes: 容缺 materials due, 核查 of promises, 差评 rectifications,
// and 好差评 per matter and unit. It reads the signed-in session the page's sign-in keeps.
"use strict";

(() => {
  const { el, table, request } = CL;
  const KINDS = { tolerance: "容缺材料待补齐", verification: "告知承诺待核查", rectification: "差评待整改" };
  const LEVELS = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"];

  function dueRow(item) {
    return el("tr", { "data-case-id": item.case_id, class: item.overdue ? "card-red" : "" },
      el("td", {}, KINDS[item.kind] || item.kind), el("td", {}, item.case_number),
      el("td", {}, item.matter_name || item.matter), el("td", {}, item.unit || "—"),
      el("td", {}, item.due || "—"), el("td", {}, item.overdue ? "已逾期" : "未到期"),
      el("td", {}, item.detail));
  }

  function ratingRow(row) {
    return el("tr", {}, el("td", {}, row.matter_name || row.matter), el("td", {}, row.unit),
      el("td", {}, row.ratings), ...LEVELS.map((level) => el("td", {}, row.levels[level] || 0)),
      el("td", {}, row.rectification_open), el("td", {}, row.rectification_overdue),
      el("td", {}, row.rectified), el("td", {}, (row.satisfaction_rate * 100).toFixed(1) + "%"));
  }

  async function load() {
    const current = CL.session();
    if (!current) return;
    const get = (path) => request("GET", path, { token: current.token });
    try {
      const lists = await Promise.all(Object.keys(KINDS).map((kind) => get("/v1/supervision/reform?kind=" + kind)));
      const ratings = await get("/v1/supervision/ratings");
      document.getElementById("reform-due").replaceChildren(table(
        ["类别", "受理号", "事项", "单位", "期限", "状态", "说明"], lists.flatMap((list) => list.items.map(dueRow))));
      document.getElementById("ratings").replaceChildren(table(
        ["事项", "单位", "评价数", ...LEVELS, "整改中", "整改逾期", "已整改", "满意率"], ratings.rows.map(ratingRow)));
    } catch (error) {
      document.getElementById("reform-due").replaceChildren(el("p", { class: "notice bad" }, `${error.code || ""} ${error.message}`));
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const work = document.getElementById("work");
    document.getElementById("refresh").addEventListener("click", load);
    new MutationObserver(() => { if (!work.hidden) load(); }).observe(work, { attributes: true, attributeFilter: ["hidden"] });
    if (!work.hidden) load();
  });
})();
