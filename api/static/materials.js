// Application files in the staff workbench. At the window each chosen file is kept in the
// office's material store (POST /v1/materials) just before the step naming it is signed, and
// the hash the store answers must be the one computed here. Whoever reads a case opens a kept
// file with their own token (fetched, so that no token ever stands in a URL), checks its
// SHA-256 here against the signed step, and only then shows it: a PDF or an image in the
// page, any other kind to save.
"use strict";

const CLM = (() => {
  const { el, ApiError, sha256hex } = CL;
  // What may be shown in the page, told by the file's first bytes as the server's gate tells
  // them: a blob shown here runs in this page's origin, so a served content type alone must
  // not decide it.
  const SHOWN = [
    ["application/pdf", [0x25, 0x50, 0x44, 0x46, 0x2d]],
    ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
    ["image/jpeg", [0xff, 0xd8, 0xff]],
  ];
  let shownUrl = null;

  function kindOf(bytes) {
    const found = SHOWN.find(([, magic]) => magic.every((b, i) => bytes[i] === b));
    return found ? found[0] : null;
  }

  async function keep(file, sha256, token) {
    const form = new FormData();
    form.append("file", file, file.name);
    const response = await fetch("/v1/materials", { method: "POST", headers: { Authorization: "Bearer " + token }, body: form });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    // The file read for the draft must be the file kept: it may have changed on disk since.
    if (data.sha256 !== sha256) throw new Error("存档的 SHA-256 与签名内容中的不一致：文件在预览后被改动，请重新选择文件");
  }

  // Keep every file a step names before it is signed; stop at the first refused, naming it.
  async function keepAll(files, token) {
    for (const { file, sha256 } of files) {
      try {
        await keep(file, sha256, token);
      } catch (error) {
        error.message = `材料“${file.name}”未能存档：${error.message}`;
        throw error;
      }
    }
  }

  function release() {
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = null;
  }

  function viewer(type, url, name) {
    if (type === "application/pdf") return el("iframe", { class: "material-frame", src: url, title: name });
    if (type) return el("img", { class: "material-image", src: url, alt: name });
    return el("p", { class: "notice" }, "此类文件（如 OFD 版式文件）不能在浏览器中直接显示，请下载后用阅读器打开。");
  }

  // Read material ``m`` of the open case ({name, sha256, seq, url}) into ``box``.
  async function show(box, m, token) {
    release();
    box.hidden = false;
    box.dataset.sha256 = m.sha256;
    box.dataset.state = "loading";
    box.replaceChildren(el("p", { class: "notice" }, `正在读取“${m.name}”…`));
    const close = el("button", { type: "button", class: "cancel" }, "关闭");
    close.addEventListener("click", () => { release(); box.hidden = true; box.replaceChildren(); });
    try {
      const response = await fetch(m.url, { headers: { Authorization: "Bearer " + token } });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
      const bytes = new Uint8Array(await response.arrayBuffer());
      const got = await sha256hex(bytes);
      if (got !== m.sha256) {
        box.dataset.state = "mismatch";
        box.replaceChildren(el("p", { class: "notice bad" },
          `“${m.name}”不予显示：收到的文件 SHA-256 为 ${got.slice(0, 16)}…，与第${m.seq}步签名记录的 ${m.sha256.slice(0, 16)}… 不符。`), close);
        return;
      }
      const type = kindOf(bytes);
      shownUrl = URL.createObjectURL(new Blob([bytes], { type: type || "application/octet-stream" }));
      box.dataset.state = "shown";
      box.replaceChildren(
        el("h4", {}, `材料：${m.name}`),
        el("p", { class: "notice good" }, `已核对：文件 SHA-256 与第${m.seq}步签名记录一致（${m.sha256.slice(0, 16)}…）。`),
        viewer(type, shownUrl, m.name),
        el("div", { class: "buttons" },
          el("a", { href: shownUrl, target: "_blank", rel: "noopener" }, "在新窗口打开"),
          el("a", { href: shownUrl, download: m.name }, "下载"), close));
    } catch (error) {
      box.dataset.state = "refused";
      box.replaceChildren(el("p", { class: "notice bad" }, `无法查看“${m.name}”：${CL.failureText(error)}`), close);
    }
  }

  return { keepAll, show, release };
})();
