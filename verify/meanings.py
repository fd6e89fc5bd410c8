"""What a verdict's words mean for someone relying on the document, (中文, English) each.

``MEANINGS`` gives, per stable check id, what a failed and what an indeterminate outcome means;
``WORDS`` the verdict's own words and the labels of its text output. The language is the
locale's (:mod:`ledger.language`).
"""

from __future__ import annotations

__all__ = ["MEANINGS", "WORDS"]

Pair = tuple[str, str]

# check id: ((failed 中文, failed English), (indeterminate 中文, indeterminate English))
MEANINGS: dict[str, tuple[Pair, Pair]] = {
    "document.issuer": (
        (
            "该文件是其他机关出具的：请用该机关的信任文件核验",
            "the document is another office's: check it against that office's trust file",
        ),
        ("无法判断该文件由哪个机关出具", "which office issued the document could not be told"),
    ),
    "seal.integrity": (
        (
            "文件在盖章后被改动，或印章不是真实的签名",
            "the document was changed after it was sealed, or its seal is not a genuine signature",
        ),
        ("印章无法核验", "the seal could not be checked"),
    ),
    "seal.chain": (
        (
            "印章证书不是本机关的，或使用时不在有效期内",
            "the seal's certificate is not from this organisation, or was not valid when used",
        ),
        (
            "印章证书此后可能已过期，且无法证明盖章早于过期",
            "the seal's certificate may have expired since, and nothing proves the seal is older",
        ),
    ),
    "seal.revocation": (
        (
            "本机关已吊销印章证书：该印章不可信赖",
            "the organisation revoked the seal's certificate: the seal cannot be relied on",
        ),
        (
            "无法从文件判断印章证书是否已被吊销",
            "whether the seal's certificate was revoked cannot be told from the document",
        ),
    ),
    "seal.modifications": (
        (
            "文件在盖章后被增加或改动了内容",
            "something was added to or changed in the document after it was sealed",
        ),
        ("无法分析盖章后的改动", "changes after sealing could not be analysed"),
    ),
    "receipt.present": (
        (
            "文件未附可用以核对办理经过的案件记录",
            "the document carries no case record to check its history against",
        ),
        ("案件记录无法读取", "the case record could not be read"),
    ),
    "receipt.signatures": (
        (
            "案件记录中有步骤不是由所列人员或密钥签名的",
            "a step in the case record was not signed by the person or key it names",
        ),
        ("案件记录中的部分签名无法核验", "some signatures in the case record could not be checked"),
    ),
    "receipt.rules": (
        (
            "案件记录违反办理规则（步骤顺序、角色、密钥或职责分离）",
            "the case record breaks the approval rules (order of steps, roles, keys or duties)",
        ),
        ("办理规则无法核验", "the approval rules could not be checked"),
    ),
    "receipt.inclusion": (
        (
            "案件记录并未如其所称记入本机关的公开日志",
            "the case record is not in the organisation's public log as it claims",
        ),
        (
            "无法核验案件记录在公开日志中的位置",
            "the case record's place in the public log could not be checked",
        ),
    ),
    "checkpoint.signature": (
        (
            "日志检查点不是由本机关的日志密钥签名的",
            "the log checkpoint was not signed by this organisation's log key",
        ),
        ("日志检查点无法核验", "the log checkpoint could not be checked"),
    ),
    "checkpoint.witnesses": (
        (
            "确认该日志检查点的独立见证方不足",
            "too few independent witnesses confirmed the log checkpoint",
        ),
        ("见证方的确认无法核验", "the witnesses' confirmations could not be checked"),
    ),
    "checkpoint.consistency": (
        (
            "较新的日志不是较早日志的延续：有记录被改动或删除",
            "the newer log does not extend the older one: entries were changed or removed",
        ),
        (
            "无法核验两个检查点是否一致",
            "the consistency of the two checkpoints could not be checked",
        ),
    ),
    "document.matches": (
        (
            "页面所印的受理号或办理结果与案件记录不符",
            "the case number or result printed on the page does not match the case record",
        ),
        (
            "无法读取页面文字与案件记录比对",
            "the text printed on the page could not be read to compare it with the case record",
        ),
    ),
    "result.status": (
        (
            "本机关已撤销或替换该文件：该文件不再有效",
            "the office has revoked or replaced this document: it no longer holds",
        ),
        (
            "不知道本机关此后是否撤销或替换了该文件",
            "whether the office has since revoked or replaced this document is not known",
        ),
    ),
    "case.deadline": (
        (
            "本机关超过时限作出决定（行政许可法第四十二条）：文件并不因此无效，但本机关未遵守法定或承诺时限",
            "the office decided after the time limit (行政许可法 §42): the document itself is not "
            "void for that, but the office did not keep the law's or its own promised time limit",
        ),
        (
            "因缺少已发布的工作日历，无法判断本机关是否遵守了时限",
            "whether the office kept the time limits could not be told, for want of a published "
            "working-day calendar",
        ),
    ),
    "verify.limits": (
        ("核验未能完成", "the check could not be completed"),
        (
            "核验在得出结论前因时间或内存限制而停止；请稍后再试，或用离线核验工具并放宽限制",
            "the check was stopped by a limit on its time or memory before it reached a verdict; "
            "try again later, or use the offline verifier with higher limits",
        ),
    ),
}

WORDS: dict[str, Pair] = {
    "PASSED": ("核验通过", "PASSED"),
    "FAILED": ("核验未通过", "FAILED"),
    "INDETERMINATE": ("无法确定", "INDETERMINATE"),
    "passed": ("通过", "passed"),
    "failed": ("未通过", "failed"),
    "indeterminate": ("无法确定", "indeterminate"),
    "means": ("含义", "means"),
    "timeline": ("已签署的步骤（办理经过）：", "Signed steps (case history):"),
    "case": ("受理号", "case"),
    "matter": ("事项", "matter"),
    "outcome": ("办理结果", "outcome"),
    "decided": ("决定时间", "decided"),
    "result": ("结果", "result"),
    "approved": ("准予许可", "approved"),
    "denied": ("不予许可", "denied"),
    "unknown_failed": ("该项核验未通过", "this check failed"),
    "unknown_unclear": ("该项核验无法确定", "this check is unclear"),
    "china_time": ("北京时间", "China time"),
}
