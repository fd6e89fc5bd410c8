"""Every line the command line prints for people, one entry per stable key: (中文, English).

``label.*`` entries name the value of a ``label  value`` result line; the rest are lines and
parts of lines with their values as ``{name}``. Numbers are written as people say them
(剩余3个工作日). A test fails on any key used in ``cli/`` without an entry here.
"""

# ruff: noqa: E501 - one text a line reads best in a table; Chinese characters count double width.
from __future__ import annotations

__all__ = ["OUTPUT"]

OUTPUT: dict[str, tuple[str, str]] = {
    # Result labels (``label  value``)
    "label.stream": ("记录流", "stream"),
    "label.seq": ("序号", "seq"),
    "label.hash": ("哈希", "hash"),
    "label.leaf": ("日志叶子序号", "leaf index"),
    "label.case_id": ("案件标识", "case id"),
    "label.case": ("案件", "case"),
    "label.case_number": ("受理号", "case number"),
    "label.query_code": ("查询密码", "query code"),
    "label.matter": ("事项", "matter"),
    "label.applicant": ("申请人", "applicant"),
    "label.status": ("状态", "status"),
    "label.next_step": ("下一步", "next step"),
    "label.time_limit": ("时限", "time limit"),
    "label.acted": ("办理人员", "acted"),
    "label.still_missing": ("仍缺", "still missing"),
    "label.missing": ("缺少", "missing"),
    "label.tolerated": ("容缺", "容缺"),
    "label.promise": ("告知承诺", "告知承诺"),
    "label.rating": ("好差评", "好差评"),
    "label.key_file": ("密钥文件", "key file"),
    "label.principal": ("人员标识", "principal"),
    "label.key_id": ("密钥标识", "key id"),
    "label.public_key": ("公钥", "public key"),
    "label.grant_id": ("授权标识", "grant id"),
    "label.bar": ("限制标识", "bar"),
    "label.document_number": ("文号", "文号"),
    "label.sealed_pdf": ("盖章 PDF", "sealed pdf"),
    "label.pdf_sha256": ("PDF 哈希", "pdf sha256"),
    # Appending
    "appended": ("{step} 已接受{again}", "{step} admitted{again}"),
    "appended.again": ("（已保存过：未写入任何内容）", "  (already stored: nothing written)"),
    "directory.appended": (
        "{step} {stream} 序号 {seq}  {where}",
        "{step} {stream} seq {seq}  {where}",
    ),
    "directory.where": ("哈希 {hash}…{leaf}{again}", "hash {hash}…{leaf}{again}"),
    "directory.leaf": ("  日志叶子 {leaf}", "  leaf {leaf}"),
    "directory.again": ("（已保存过）", "  (already stored)"),
    "stale.hint": (
        "  （已有其他步骤先到：请查看案件后重试）",
        "  (another step came first: look at the case and try again)",
    ),
    "signing_in": (
        "正在以 {principal}（密钥 {key}）登录 {server}",
        "signing in to {server} as {principal} (key {key})",
    ),
    "receipt.malformed": (
        "服务器的受理回执格式有误，未保存",
        "the server's receipt of admission is malformed; not kept",
    ),
    "passphrase.for": ("{what} 的口令", "passphrase for {what}"),
    "number.prompt": ("身份证号码", "identity number"),
    # A case
    "case.outcome": ("{status}（{outcome}）", "{status} ({outcome})"),
    "case.next": ("{step}，由{role}办理", "{step} by {role}"),
    "timing.not_started": ("尚未起算（受理时开始）", "not started (starts on acceptance)"),
    "timing.committed": ("承诺期限 {day}", "committed deadline {day}"),
    "timing.committed_undated": ("承诺期限未定", "committed deadline not dated"),
    "timing.statutory": ("法定期限 {day}", "statutory {day}"),
    "timing.calendar_unknown": (
        "clock.calendar_unknown：{years}年的工作日历尚未发布（caseledger calendar publish）",
        "clock.calendar_unknown: no working-day calendar published for {years} "
        "(caseledger calendar publish)",
    ),
    "timing.paused": (
        "自{since}起停止计时（中止：{why}），已用{used}个工作日",
        "clock stopped since {since} (suspended: {why}), {used} used",
    ),
    "timing.extended": ("延长{days}个工作日", "extended by {days} working days"),
    "timing.left": ("剩余{days}个工作日", "{days} working days left"),
    "timing.statutory_overdue": ("已超过法定时限", "past the statutory limit"),
    "timing.card": ("{card}牌", "{card} card"),
    "timing.separator": ("，", ", "),
    "materials.supplement": ("（补正）", " (补正)"),
    "materials.required": ("（必需）", " (required)"),
    "materials.tolerated": ("{items}，补齐期限 {due}", "{items}, due {due}"),
    "materials.promise": ("核查 {state}", "核查 {state}"),
    "materials.pending": ("待核查", "pending"),
    "materials.rating": ("{rating}（整改{answered}）", "{rating} (rectification {answered})"),
    "materials.answered": ("已答复", "answered"),
    "timeline.key": ("       密钥 {key}  哈希 {hash}", "       key {key}  hash {hash}"),
    "timeline.material": (
        "       材料：{name} sha256 {sha256}",
        "       material: {name} sha256 {sha256}",
    ),
    # Directory
    "staff.header": ("{stream}：{count}项变更", "{stream}: {count} changes"),
    "staff.key": ("      密钥 {key}  {state}", "      key   {key}  {state}"),
    "staff.grant": (
        "      授权 {grant}  {role}  [{matters}]  {state}",
        "      grant {grant}  {role}  [{matters}]  {state}",
    ),
    "state.live": ("有效", "live"),
    "state.revoked": ("已撤销", "revoked"),
    "matter.defined": ("{code} 第{version}版 {name}", "{code} v{version} {name}"),
    # Documents
    "sealing.result": (
        "正在盖章出证：办件凭证和证明、文书、印章……",
        "sealing the result: receipt and proofs, document, seal …",
    ),
    "sealing.notice": (
        "正在为{doc_type}通知书盖章：办件凭证和证明、文书、印章……",
        "sealing the {doc_type} notice: receipt and proofs, document, seal …",
    ),
    "issued.before": (
        "该结果已于序号 {seq} 出证：给出保存的 PDF",
        "the result was already issued at seq {seq}: the kept PDF is given",
    ),
    "notice.before": (
        "{doc_type}通知书此前已出具：给出保存的 PDF",
        "the {doc_type} notice was issued before: the kept PDF is given",
    ),
    # Organisation, audit
    "init.created": (
        "机关 {org}（{name}）已在 {path} 创建",
        "organisation {org} ({name}) created in {path}",
    ),
    "init.trust": (
        "  信任文件：{path}（在网站上公布）",
        "  trust file: {path} (publish it on your web site)",
    ),
    "init.admin": (
        "  管理员密钥：{path}（移到管理员的电脑上）",
        "  admin key:  {path} (move it to the admin's machine)",
    ),
    "init.root": ("  根密钥：{path}（离线保管）", "  root key:   {path} (keep it offline)"),
    "init.calendars": (
        "  工作日历：{years} 已发布（以后的年份：caseledger calendar publish）",
        "  calendars:  {years} published (later years: `caseledger calendar publish`)",
    ),
    "init.local_url": (
        "警告：--url {given} {url}，只有本机能访问。该地址印在每份结果的二维码和 trust.json 中；"
        "扫描纸质结果或查询其状态的人无法访问。出具结果的机关请用 --url https://<公网地址>。",
        "WARNING: --url {given} {url}, which only this machine can reach. It is printed in every "
        "result's QR code and in trust.json; a person scanning a printed result or checking its "
        "status cannot reach it. Use --url https://<your public address> for an office that "
        "issues results.",
    ),
    "init.url_given": ("为", "given"),
    "init.url_default": ("未给出，使用", "not given: using"),
    "audit.passed": (
        "审计通过：{streams}个记录流中共{envelopes}条签名记录",
        "audit PASSED: {envelopes} envelopes in {streams} streams",
    ),
    "audit.failed": (
        "审计未通过：{streams}个记录流中共{envelopes}条签名记录",
        "audit FAILED: {envelopes} envelopes in {streams} streams",
    ),
    "audit.log": ("  日志 {key}：{value}", "  log {key}: {value}"),
    "audit.finding": (
        "  {code} {stream} 序号 {seq}：{detail}",
        "  {code} {stream} seq {seq}: {detail}",
    ),
    "audit.time_limits": (
        "时限：{count}项发现（办理行为，非完整性问题）",
        "time limits: {count} finding(s) (conduct, not integrity)",
    ),
    "audit.set_aside": (
        "读模型：{count}件案件已搁置（步骤已保存，摘要缺失）",
        "read models: {count} case(s) set aside (steps stored, summaries missing)",
    ),
    "audit.set_aside_entry": (
        "  {code} {stream} 序号 {seq}（位置 {position}）",
        "  {code} {stream} seq {seq} (position {position})",
    ),
    "audit.replayed": ("  ……已重放{count}条签名记录", "  … {count} envelopes replayed"),
    "export.signing": ("正在签检查点并收集证明……", "signing a checkpoint and collecting proofs…"),
    # Calendar
    "label.calendar": ("工作日历", "calendar"),
    "calendar.published": (
        "{year}年：节假日{holidays}天，调休工作日{workdays}天（{source}）",
        "{year}: {holidays} holidays, {workdays} adjusted working days ({source})",
    ),
    "calendar.row": (
        "{year}  节假日{holidays:>3}天  调休工作日{workdays:>2}天  {mark}  {source}",
        "{year}  {holidays:>3} holidays  {workdays:>2} adjusted working days  {mark}  {source}",
    ),
    "calendar.signed": ("已签署", "signed"),
    "calendar.unsigned": ("未签署（软件包自带）", "unsigned (package)"),
    "calendar.holidays": ("  节假日  {days}", "  holidays  {days}"),
    "calendar.workdays": ("  调休    {days}", "  workdays  {days}"),
    "calendar.after": (
        "{year}年以后的年份未知：clock.calendar_unknown",
        "years after {year} are unknown: clock.calendar_unknown",
    ),
    # Database
    "db.stamped": (
        "发现迁移之前建的表：已标记为 {revision}",
        "tables made before migrations found: stamped at {revision}",
    ),
    "db.upgraded": ("已从 {start} 升级到 {after}", "upgraded {start} → {after}"),
    "db.empty": ("空数据库", "empty database"),
    "db.at_head": ("已是最新版本 {after}", "already at {after} (head)"),
    "db.head": ("{revision}（最新）", "{revision} (head)"),
    "db.behind": (
        "{revision}（最新为 {newest}：请运行 caseledger db upgrade）",
        "{revision} (head is {newest}: run `caseledger db upgrade`)",
    ),
    "db.none": ("无", "none"),
    # The log and witnesses
    "log.witness": ("见证方  {key}", "witness  {key}"),
    "log.quorum": ("法定数  {count}", "quorum   {count}"),
    "log.quorum_zero": (
        "警告：法定见证数为 0——核验者不要求见证；只有本机关以外保存的检查点能发现被改写的日志",
        "warning: quorum 0 — verifiers require no witness; only checkpoints held outside this "
        "office catch a rewritten log",
    ),
    "log.hashes": ("哈希：", "hashes:"),
    # The demo
    "demo.created": (
        "1. 机关 济南市行政审批服务局 已在 {out}/ 创建（trust.json、密钥、印章根证书；{keys}）",
        "1. organisation 济南市行政审批服务局 created in {out}/ (trust.json, keys, seal CA; {keys})",
    ),
    "demo.keys_yours": (
        "根密钥、管理员密钥和印章根证书密钥以您的口令加密",
        "root, admin and seal-CA keys under your passphrase",
    ),
    "demo.keys_demo": (
        "根密钥、管理员密钥和印章根证书密钥以口令 {passphrase!r} 加密",
        "root, admin and seal-CA keys under the passphrase {passphrase!r}",
    ),
    "demo.directory": (
        "2. 人员目录：管理员、电子印章服务和三个层级的三名工作人员（王立 受理，李娜 审查，张伟 审批）",
        "2. directory: admin, seal service and three staff in three grades (王立 handler, 李娜 reviewer, 张伟 approver)",
    ),
    "demo.case": (
        "3. 案件 {stream}：申请 → 受理 → 审查 → 决定（准予许可）",
        "3. case {stream}: Applied → Accepted → Reviewed → Decided (approved)",
    ),
    "demo.sealed": (
        "4. 结果 {number} {document} 已盖章：{path}（SHA-256 {sha}…，ResultIssued 序号 {seq}）",
        "4. result {number} {document} sealed: {path} (sha-256 {sha}…, ResultIssued seq {seq})",
    ),
    "demo.notice": (
        "   受理通知书 {number} 已盖章：{path}",
        "   受理通知书 {number} sealed: {path}",
    ),
    "demo.delivered": ("5. 受理人员已电子送达", "5. delivered electronically by the handler"),
    "demo.checkpoint": (
        "6. 检查点已签署，日志大小{size}；{proofs}个包含证明在 {path} 中",
        "6. checkpoint signed at tree size {size}; {proofs} inclusion proofs in {path}",
    ),
    "demo.status": (
        "   状态声明：{status}，已签名，在 {path} 中",
        "   status statement: {status}, signed, in {path}",
    ),
    "demo.audit": (
        "7. 审计：{verdict}（{envelopes}条签名记录，{findings}项发现）",
        "7. audit: {verdict} ({envelopes} envelopes, {findings} findings)",
    ),
    "demo.verify": ("8. 核验 {label}：{verdict}", "8. verify {label}: {verdict}"),
    "demo.try": (
        "\n文件夹 {out}/ 是一个机关文件夹：可试试 caseledger audit --home {out} 或 caseledger-verify pdf {out}/result.pdf --trust {out}/trust.json --status {out}/status.json。",
        "\nFolder {out}/ is an organisation folder: try `caseledger audit --home {out}` or `caseledger-verify pdf {out}/result.pdf --trust {out}/trust.json --status {out}/status.json`.",
    ),
    "status.passed": ("通过", "passed"),
    "status.failed": ("未通过", "failed"),
    "status.indeterminate": ("无法确定", "indeterminate"),
    "verdict.PASSED": ("通过", "PASSED"),
    "verdict.FAILED": ("未通过", "FAILED"),
    "verdict.INDETERMINATE": ("无法确定", "INDETERMINATE"),
    # Following the feed
    "follow.received": (
        "已接收{count}条；位置 {position}",
        "received {count}; position {position}",
    ),
    # Errors the boundary prints
    "error.file": (
        "无法读写文件{where}（{reason}）",
        "a file cannot be read or written{where} ({reason})",
    ),
    "error.interrupted": ("已中断", "interrupted"),
    "error.internal": (
        "内部错误（{name}），设置 CASELEDGER_DEBUG=1 可查看详情",
        "internal error ({name}); set CASELEDGER_DEBUG=1 for the details",
    ),
}
