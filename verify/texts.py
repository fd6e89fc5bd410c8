"""What the verifier says to a person, one entry per stable key: (中文, English).

Every check detail is one of these texts with its values filled in, in the language the locale
asks for (Chinese unless it names English; :mod:`ledger.language`). Check ids stay the stable,
machine-matched names. Where a detail quotes a finding from deeper down (a parser's complaint,
a rule violation), the Chinese text says what it means and carries the finding beside it.
A test fails on any key used in ``verify/`` without an entry here, or an entry without Chinese.
"""

from __future__ import annotations

from typing import Any

from ledger.errors import CaseLedgerError
from ledger.language import english, render
from ledger.messages import message

__all__ = ["DETAILS", "detail", "reason"]

DETAILS: dict[str, tuple[str, str]] = {
    # document.issuer
    "issuer.foreign": (
        "该文件由{name}出具，不是信任文件所属的{org}：请用{name}的信任文件核验",
        "issued by {name}, not by {org} (the trust file given): check it with {name}'s own "
        "trust file",
    ),
    # seal.*
    "seal.not_checked": (
        "未核验：印章本身无法验证",
        "not checked: the seal itself cannot be validated",
    ),
    "seal.unvalidated": ("印章无法验证（{why}）", "the seal cannot be validated: {why}"),
    "seal.not_over_bytes": (
        "印章签名与所盖内容不符",
        "the seal's signature does not verify over the sealed bytes",
    ),
    "seal.covers": (
        "印章签名覆盖其所在版本的全部内容",
        "the seal's signature covers every byte of its revision",
    ),
    "seal.covers_with": (
        "印章签名（{algorithm}）覆盖所盖版本的全部内容",
        "the seal's signature ({algorithm}) covers every byte of the sealed revision",
    ),
    "seal.digest": (
        "所盖内容与印章中的摘要不符",
        "the sealed bytes do not match the digest in the seal",
    ),
    "seal.signature": (
        "印章签名不能用其密钥验证",
        "the seal's signature does not verify under its key",
    ),
    "seal.partial": (
        "印章未覆盖其所在版本的全部内容",
        "the seal does not cover the whole revision it is in",
    ),
    "seal.container": ("印章校验不通过（{problems}）", "{problems}"),
    "seal.timestamp_token": ("印章的时间戳不能验证", "the seal's timestamp token does not verify"),
    "seal.unreadable_for_check": (
        "文件无法读取以完成此项核验（{why}）",
        "the document cannot be read for this check: {why}",
    ),
    "chain.no_ca": ("信任文件中没有印章根证书", "the trust file names no seal CA"),
    "chain.not_checked": (
        "未核验：印章签名不能验证",
        "not checked: the seal's signature does not verify",
    ),
    "chain.trusted": (
        "{subject}，由信任文件中的印章根证书签发",
        "{subject}, issued by the trust file's seal CA",
    ),
    "chain.untrusted": (
        "{subject} 不能追溯到信任文件中的印章根证书（{why}）",
        "{subject} does not chain to the trust file's seal CA ({why})",
    ),
    "chain.unvalidated": (
        "{subject} 无法按信任文件中的印章根证书验证（{why}）",
        "{subject} cannot be validated against the trust file's seal CA: {why}",
    ),
    "chain.at_timestamp": (
        "{subject}，由信任文件中的印章根证书签发，在盖章时间戳 {at} 时有效",
        "{subject}, issued by the trust file's seal CA, valid at the seal's timestamp {at}",
    ),
    "chain.invalid_at_timestamp": (
        "盖章时间戳所示时间，{subject} 不在有效期内",
        "{subject} was not valid when the seal was timestamped",
    ),
    "chain.expired_unproven": (
        "{subject} 在{day}已不在有效期内，且没有时间戳证明盖章早于此时",
        "{subject} is not valid at {day} and no timestamp proves the seal older",
    ),
    "chain.invalid_when_made": (
        "印章自称的盖章时间，{subject} 不在有效期内",
        "{subject} was not valid when the seal says it was made",
    ),
    "chain.no_path": ("无法追溯到信任根", "no path to a trust root"),
    "revocation.issuer_unknown": (
        "信任文件中没有印章证书的签发机构",
        "the seal's issuer is not in the trust file",
    ),
    "revocation.no_list": (
        "文件未附印章根证书签发的证书吊销列表",
        "the document carries no revocation list signed by the seal CA",
    ),
    "revocation.after_stamp": (
        "证书于{day}吊销，晚于盖章时间戳",
        "certificate revoked on {day}, after the seal's timestamp",
    ),
    "revocation.revoked": (
        "印章根证书已于{day}吊销证书 {serial}",
        "the seal CA revoked certificate {serial} on {day}",
    ),
    "revocation.not_revoked": (
        "印章根证书{at}的吊销列表中没有该证书",
        "not revoked on the seal CA's list of {at}",
    ),
    "modifications.found": ("盖章后文件被增改（{problems}）", "{problems}"),
    "modifications.kind": ("盖章后的更改类型：{kind}", "changes after sealing of kind: {kind}"),
    "modifications.docmdp": (
        "更改违反了印章的禁止更改认证",
        "the changes break the seal's no-changes certification",
    ),
    "modifications.none": ("盖章后未增加任何内容", "nothing was added after sealing"),
    "modifications.dss_only": (
        "盖章后有{count}个版本，仅含验证数据（DSS/时间戳）",
        "{count} later revision(s), validation data only (DSS/timestamps)",
    ),
    "seal.none": ("文件没有印章（无签名）", "the document carries no seal (no signature)"),
    "seal.unreadable": (
        "文件的签名无法读取（{why}）",
        "the document's signature cannot be read: {why}",
    ),
    "seal.not_checked_none": ("未核验：没有可读取的印章", "not checked: there is no readable seal"),
    # receipt.*
    "receipt.not_checked": ("未核验：没有可读取的办件凭证", "not checked: no readable receipt"),
    "receipt.attachments": (
        "所盖版本的附件无法读取（{why}）",
        "the sealed revision's attachments cannot be read: {why}",
    ),
    "receipt.attachment_problem": ("办件凭证附件有误（{why}）", "{why}"),
    "receipt.absent": ("所盖版本未附 {name}", "the sealed revision has no attached {name}"),
    "receipt.unreadable": (
        "附件 {name} 无法读取（{why}）",
        "the attached {name} cannot be read: {why}",
    ),
    "receipt.nested": ("附件 {name} 嵌套过深", "the attached {name} is nested too deeply"),
    "receipt.kind": (
        "附件 {name} 不是办件凭证（{kind}）",
        "the attached {name} is not a case receipt ({kind})",
    ),
    "receipt.attached": (
        "{name} 附在所盖版本内（案件步骤{steps}个，人员目录记录{entries}条）",
        "{name} is attached inside the sealed revision ({steps} case steps, {entries} directory "
        "entries)",
    ),
    "signatures.found": ("有步骤签名不符（{findings}）", "{findings}"),
    "signatures.all": (
        "全部{count}个步骤均由所列人员的密钥签名",
        "all {count} steps are signed by the keys of the people they name",
    ),
    "rules.found": ("不符合办理规则（{problems}）", "{problems}"),
    "rules.more": ("另有{count}项", "and {count} more"),
    "rules.no_step": ("记录中没有案件步骤", "the record holds no case step"),
    "rules.no_decision": ("记录中没有决定", "the record holds no decision"),
    "rules.no_directory": (
        "审计包中没有用以核对签名人授权的人员目录",
        "the bundle holds no directory to authorise its signers",
    ),
    "rules.directory_not_whole": (
        "人员目录不完整，且没有选取说明",
        "the directory is not whole and no selection statement says why",
    ),
    "rules.log_key": (
        "信任文件中的日志密钥无法读取，不能核对目录选取说明",
        "the trust file's log key cannot be read to check the directory selection",
    ),
    "rules.selection_unsigned": (
        "目录选取说明未经本机关日志密钥签名",
        "the directory selection is not signed by the office's log key",
    ),
    "rules.kept": (
        "{steps}个步骤顺序正确，每步由当时持有相应角色的人员办理；{people}名不同人员分别履职",
        "{steps} steps in order, each by a person holding the role at the time; {people} "
        "different people in separate duties",
    ),
    "inclusion.not_checked": ("未核验：日志检查点无法读取", "not checked: unreadable checkpoint"),
    "inclusion.found": ("有步骤未能证明已记入公开日志（{problems}）", "{problems}"),
    "inclusion.more": ("另有{count}项", "and {count} more"),
    "inclusion.empty": ("记录中没有可证明的步骤", "the record holds no envelope to prove"),
    "inclusion.untrusted": (
        "全部{count}个证明指向一个不受信任的检查点的根",
        "all {count} proofs lead to the root of a checkpoint that is not trusted",
    ),
    "inclusion.all": (
        "全部{count}个步骤均在日志中（日志大小{size}）",
        "all {count} steps are in the log at tree size {size}",
    ),
    "inclusion.no_proof": ("{where} 没有包含证明", "{where} has no inclusion proof"),
    "inclusion.proof_unreadable": (
        "{where}：证明无法读取（{why}）",
        "{where}: the proof cannot be read ({why})",
    ),
    "inclusion.other_size": (
        "{where}：证明针对日志大小{size}，不是凭证的检查点",
        "{where}: the proof is for tree size {size}, not the receipt's checkpoint",
    ),
    "inclusion.other_copy": (
        "{where}：证明所附检查点与凭证的不同",
        "{where}: the proof carries another copy of the checkpoint than the receipt",
    ),
    "inclusion.invalid": ("{where}：包含证明不成立（{why}）", "{where}: {why}"),
    "inclusion.unchecked": (
        "{where}：证明无法核对（{why}）",
        "{where}: the proof cannot be checked ({why})",
    ),
    # checkpoint.*
    "checkpoint.unreadable": ("检查点无法读取（{why}）", "the checkpoint cannot be read: {why}"),
    "checkpoint.invalid": ("检查点无效（{why}）", "{why}"),
    "checkpoint.signed": (
        "由日志 {origin} 签名，日志大小{size}",
        "signed by the log {origin} at tree size {size}",
    ),
    "witnesses.not_checked": ("未核验：日志检查点无法读取", "not checked: unreadable checkpoint"),
    "witnesses.none_required": (
        "信任文件不要求见证；{count}个受信任的见证方已联署",
        "the trust file requires no witness; {count} trusted witness(es) cosigned",
    ),
    "witnesses.cosigned": (
        "{count}个受信任的见证方（共{total}个）已联署（{names}），要求{quorum}个",
        "{count} of {total} trusted witnesses cosigned ({names}); {quorum} required",
    ),
    "witnesses.witnessed_bad": ("见证的检查点：{why}", "the witnessed checkpoint: {why}"),
    "witnesses.witnessed": (
        "{count}个受信任的见证方（{names}；要求{quorum}个）联署了日志大小{seen}的检查点，"
        "凭证的日志大小{size}是其延续",
        "{count} trusted witnesses ({names}; {quorum} required) cosigned the log at tree size "
        "{seen}, which the receipt's tree of {size} extends",
    ),
    "consistency.not_checked": (
        "未核验：有检查点不是日志签名的",
        "not checked: a checkpoint is not signed by the log",
    ),
    "consistency.older": ("较早的检查点：{detail}", "the older checkpoint: {detail}"),
    "consistency.newer": ("较新的检查点：{detail}", "the newer checkpoint: {detail}"),
    "consistency.both_signed": (
        "两个检查点均由日志签名（{detail}）",
        "both checkpoints signed by the log ({detail})",
    ),
    "consistency.smaller": (
        "“较新”的检查点（{new}条）比较早的（{old}条）还小",
        "the 'newer' checkpoint ({new} entries) is smaller than the older ({old})",
    ),
    "consistency.empty": ("任何日志都是空日志的延续", "every log extends an empty one"),
    "consistency.invalid": ("一致性证明不成立（{why}）", "{why}"),
    "consistency.kept": (
        "{new}条的日志原样延续了{old}条的日志",
        "the log of {new} entries extends the log of {old} entries unchanged",
    ),
    # document.matches
    "matches.nothing": (
        "凭证中没有已决定的案件可供比对",
        "no decided case in the receipt to compare with",
    ),
    "matches.unreadable": ("页面文字无法读取（{why}）", "{why}"),
    "matches.pages": ("页面无法读取（{why}）", "the pages cannot be read: {why}"),
    "matches.found": ("页面所印内容与凭证不符（{problems}）", "{problems}"),
    "matches.kept": (
        "页面印有受理号 {number}，办理结果为{outcome}，与凭证记载一致",
        "the page shows case number {number} and a result that is {outcome}, as the receipt "
        "records",
    ),
    # result.status
    "status.notice": (
        "这是通知书，不是许可证：没有可变更的状态",
        "a notice, not a licence: it has no status to change",
    ),
    "status.not_checked": (
        "未核验：本机关此后是否撤销或替换了该文件；请加 --online 再次核验，或保存 {url} 并用 "
        "--status FILE 提供",
        "not checked: whether the office has since revoked or replaced this document; run again "
        "with --online, or save {url} and give it with --status FILE",
    ),
    "status.unknown": (
        "{org}称未出具过此哈希的文件",
        "{org} says it issued no document with this hash",
    ),
    "status.problem": ("未核验：{why}", "not checked: {why}"),
    "status.not_http": (
        "信任文件中的网址不是 http(s) 地址：{url}",
        "the trust file's base URL is not http(s): {url}",
    ),
    "status.unreachable": ("无法连接 {url}（{why}）", "{url} could not be reached: {why}"),
    "status.http": ("{url} 应答 HTTP {status}（{code}）", "{url} answered HTTP {status} ({code})"),
    "status.unreadable": (
        "状态声明无法读取（{why}）",
        "the status statement cannot be read: {why}",
    ),
    "status.other_org": (
        "状态声明来自 {got}，不是 {want}",
        "the statement is from {got!r}, not {want!r}",
    ),
    "status.other_document": (
        "状态声明针对另一文件（{sha}…）",
        "the statement is about another document ({sha}…)",
    ),
    "status.other_key": (
        "状态声明由密钥 {key} 签名，信任文件中没有该密钥",
        "the statement is signed by key {key}, not named in the trust file",
    ),
    "status.forged": (
        "状态声明的签名不能验证：不是本机关出具的",
        "the statement's signature does not verify: it is not the office's",
    ),
    "status.future": ("状态声明的日期为{at}，在未来", "the statement is dated {at}, in the future"),
    "status.stale": (
        "状态声明早于盖章：请重新获取",
        "the statement is older than the seal: ask for a new one",
    ),
    "status.proof_bad": ("其日志证明不成立（{why}）", "its log proof does not hold: {why}"),
    "status.proof_unchecked": (
        "其日志证明无法核对（{why}）",
        "its log proof cannot be checked: {why}",
    ),
    "status.in_log": ("该步骤已记入本机关日志", "the step is in the office's log"),
    "status.ended": ("{line}（{said}的声明；{proven}）", "{line} (statement of {said}; {proven})"),
    "status.unproven": ("状态声明称有效，但{why}", "the statement says valid, but {why}"),
    "status.in_force": (
        "有效：未被撤销或替换（{said}的声明，受理号 {number}；其出具已记入本机关日志）",
        "in force: neither revoked nor superseded (statement of {said}, case {number}; its "
        "issue is in the office's log)",
    ),
    "status.revoked_in_record": (
        "记录中载有该结果的撤销：{line}",
        "the record holds the result's revocation: {line}",
    ),
    "status.none_issued": ("记录中没有出具盖章结果", "no sealed result was issued in this record"),
    "status.in_force_record": (
        "现行有效的结果为 {sha}…，记录中未被撤销{replaced}",
        "the result in force is {sha}…, not revoked in this record{replaced}",
    ),
    "status.superseded": (
        "；此前{count}份文件已被替换",
        "; {count} earlier document(s) superseded",
    ),
    # case.deadline
    "deadline.not_folded": (
        "无法从该记录重新计算期限",
        "the time limits cannot be recomputed from this record",
    ),
    "deadline.no_step": ("记录中没有案件步骤", "the record holds no case step"),
    "deadline.calendar": ("（工作日历：{sources}）", " (calendar: {sources})"),
    "deadline.not_accepted": (
        "期限未起算：案件未受理{on}",
        "no time limit ran: the case was not accepted{on}",
    ),
    "deadline.unknown": (
        "clock.calendar_unknown：{years}年的工作日历尚未发布，期限无法计算{on}",
        "clock.calendar_unknown: no working-day calendar was published for {years}, so the time "
        "limits cannot be counted{on}",
    ),
    "deadline.decided": ("已作出决定", "decided"),
    "deadline.undecided": ("至记录最后一步仍未决定", "still undecided at the record's last step"),
    "deadline.limits": (
        "法定时限{statutory}个工作日（截止{statutory_deadline}），已用{statutory_used}个工作日；"
        "承诺时限{committed}个工作日（截止{committed_deadline}），已用{committed_used}个工作日",
        "statutory limit {statutory} working days (deadline {statutory_deadline}): "
        "{statutory_used} used; committed limit {committed} working days (deadline "
        "{committed_deadline}): {committed_used} used",
    ),
    "deadline.past_statutory": (
        "{verb}，超过法定时限{days}个工作日",
        "{verb} {days} working day(s) past the statutory limit",
    ),
    "deadline.past_committed": (
        "{verb}，在法定时限内，但超过承诺时限{days}个工作日",
        "{verb} within the statutory limit but {days} working day(s) past the committed limit",
    ),
    "deadline.within": (
        "{verb}，未超过法定时限和承诺时限",
        "{verb} within the statutory and the committed limit",
    ),
    "deadline.not_dated": ("未定", "not dated"),
    "deadline.judged": ("{verdict}；{limits}{on}", "{verdict}; {limits}{on}"),
    # verify.limits
    "limits.stopped": ("{reason}，未能得出结论", "{reason} before it reached a verdict"),
}


def detail(key: str, /, **args: Any) -> str:
    """The text of ``key`` with ``args``, in the locale's language."""
    return render(DETAILS, key, **args)


def reason(exc: CaseLedgerError) -> str:
    """An error quoted in a detail: the code's Chinese text with the error beside it, or the
    error alone in English."""
    text = None if english() else message(exc.code)
    return f"{text}：{exc.message}" if text else exc.message
