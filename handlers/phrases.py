"""How people phrase things the handlers must recognise beyond the NLU's intents and
entities (answers to a question, a reschedule, a name). Texts we send are in texts/."""

from __future__ import annotations

import re
from typing import Final

# Binding: "我叫张建国", "姓名：张建国".
NAME_PREFIX: Final = re.compile(
    r"^(?:我叫|我是|我的名字是|我的名字叫|名字是|名字叫|姓名是|姓名|本人|叫)"
)
NAME_PUNCTUATION: Final = re.compile(r"[\s，。,.!！?？:：]")
NAME_SPLIT: Final = re.compile(r"[\s，,。;；\d]")
COMPOUND_SURNAMES: Final = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "夏侯",
)

# Answers to "是给您本人，还是给老伴？" and "上午还是下午？".
SELF_ANSWER: Final = re.compile(r"^(?:我|我自己|自己|本人|我本人|俺|给我|是我)[的。！!，,]*$")
MORNING: Final = re.compile(r"上午|早上|早晨|上半天|morning")
AFTERNOON: Final = re.compile(r"下午|下半天|午后|afternoon")

# Asking where a claim stands rather than booking a time to hand in bills.
CLAIM_STATUS: Final = re.compile(
    r"到了没|到账|进度|批了|批下来|结果|怎么样了|报了没|办好了|多久能|啥时候能|退回|多少钱|查一下|查查"
    r"|哪一步|到哪了|到哪儿了|咋样了|怎样了|如何了|下来了?没|到没到|好了没|钱到|打过来|打到卡"
    r"|审核|审批|报下来|有信儿|有消息"
)
# Moving a booking rather than making a new one.
RESCHEDULE: Final = re.compile(r"改到|改成|改约|换到|换个时间|挪到|推迟|提前到|往后推|往前")
# Naming the escorted hospital visit when cancelling.
ESCORT_WORDS: Final = re.compile(r"陪诊|看病|陪同就医|挂号")
# Words that say nothing about which policy is meant.
NUMERAL_CHARS: Final = frozenset("0123456789零一二两三四五六七八九十百千万点几")
_STOPWORD_TEXT = (
    "的 了 吗 呢 吧 啊 呀 么 我 你 他 她 您 我们 你们 是 有 在 和 跟 与 就"
    " 都 也 还 又 这 那 个 什么 怎么 怎样 多少 哪些 哪个 能 能不能 可以 可不可以 要 想 问 问问 请问"
    " 一下 现在 今年 老 同志 听说 是不是 有没有 没有 不 给 对 会 让 真的 家里 到底"
)
POLICY_STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())
# How the name of a hospital department ends.
DEPARTMENT_ENDINGS: Final = ("科", "中心", "门诊")
# Where a sentence of an article ends (answers quote the first two).
SENTENCE_END: Final = re.compile(r"(?<=[。！？])")
# A member of staff asking for the queue of open requests.
STAFF_QUEUE: Final = frozenset({"待办", "/todo", "todo", "待处理"})
# Punctuation around a free-text answer.
ANSWER_TRIM: Final = " ，。,.!！"
# A retiree asking to let a son or daughter use the bot for them.
FAMILY_INVITE: Final = re.compile(
    r"(?:绑定|关联|邀请|添加|加上?)(?:我的?)?(?:子女|儿子|女儿|孩子|家属|家人|儿媳|女婿)"
    r"|(?:子女|儿子|女儿|孩子|家属|家人|儿媳|女婿)(?:也)?(?:要|想|能|可以)?(?:绑定|关联)"
    r"|家属(?:码|绑定|邀请)"
)
# A binding code typed out ("绑定 12345678"), e.g. one a parent passed on.
# The privacy notice answered in words; the SMS code typed back; the person's own account
# answering about a new binding; withdrawing ("删除我的信息", "不想用了").
CONSENT_YES: Final = re.compile(r"^(?:我?同意|好的?|可以|行|没问题|[1１])[。！!.]?$")
CONSENT_NO: Final = re.compile(r"^(?:我?不同意|不要|不行|不用了?|[2２])[。！!.]?$")
SMS_CODE: Final = re.compile(r"^(?:验证码)?\s*[:：]?\s*(\d{6})\s*$")
OWNER_APPROVE: Final = re.compile(r"^\s*(?:同意绑定|是我们绑的)\s*[。！!]?\s*$")
OWNER_REJECT: Final = re.compile(r"^\s*(?:不是我们的?|拒绝绑定|不同意绑定)\s*[。！!]?\s*$")
FORGET_ME: Final = re.compile(
    r"(?:删除|删掉|注销|清除)(?:我的?)?(?:个人)?(?:信息|资料|账号|档案|数据)|不想用了|不用这个了|撤回(?:同意|授权)"
)
TYPED_CODE: Final = re.compile(r"^(?:绑定码?|邀请码|家属码|绑定家属)?\s*[:：]?\s*(\d{8})\s*$")

# Staff taking or closing an emergency by typing: "接 12", "我来处理12", "办结 12 已送医".
ALERT_TAKE: Final = re.compile(r"^\s*(?:接|接手|我来处理|认领)\s*(?:第)?\s*(\d{1,9})\s*号?\s*$")
ALERT_RESOLVE: Final = re.compile(
    r"^\s*(?:办结|已处理|处理完毕)\s*(?:第)?\s*(\d{1,9})\s*号?\s*(.*)$", re.S
)
# Staff closing a request of their queue by its number, with a note: "完成 12 已探望，恢复得好".
# Staff deciding a pending binding from the queue: "核实 12" (it is them), "驳回 12".
IDENTITY_APPROVE: Final = re.compile(
    r"^\s*(?:核实|核实通过|确认身份|通过)\s*(?:第|编号)?\s*(\d{1,9})\s*号?\s*$"
)
IDENTITY_REJECT: Final = re.compile(
    r"^\s*(?:驳回|不通过|核实不通过)\s*(?:第|编号)?\s*(\d{1,9})\s*号?\s*$"
)
REQUEST_DONE: Final = re.compile(
    r"^\s*(?:完成|已完成|办完|已办完|已探望|已看望)\s*(?:第|编号)?\s*(\d{1,9})\s*号?"
    r"\s*[,，:：]?(.*)$",
    re.S,
)
# Staff logging a must-visit made, by its number, with a note: "探望 12 送了慰问品 精神不错".
VISIT_LOG: Final = re.compile(
    r"^\s*(?:探望|看望|走访|慰问)\s*(?:第|编号)?\s*(\d{1,9})\s*号?\s*[,，:：]?(.*)$", re.S
)
# Staff recording an occasion that calls for a visit (五必访), by name or roster number:
# "登记必访 张建国 丧事 老伴上周去世", "登记必访 12 困难 孙子生病住院".
VISIT_OCCASION: Final = re.compile(
    r"^\s*(?:登记必访|必访登记|登记探望)\s*(\S+?)\s*[,，]?\s*"
    r"(家庭困难|困难|丧事|丧亲|丧偶|去世|情况变化|变化)\s*[,，:：]?(.*)$",
    re.S,
)
VISIT_OCCASION_WORDS: Final = {
    "家庭困难": "hardship", "困难": "hardship",
    "丧事": "bereavement", "丧亲": "bereavement", "丧偶": "bereavement", "去世": "bereavement",
    "情况变化": "situation", "变化": "situation",
}  # fmt: skip
# Staff raising an emergency for a retiree (a neighbour called the office): "代报求助 张建国 …"
# or by roster number "代报求助 12 …".
ALERT_RAISE: Final = re.compile(r"^\s*代报求助\s*(\S+)\s*(.*)$", re.S)
# Staff (leader or admin) composing a broadcast: "群发 …" to everyone, "群发@姑苏区 …",
# "群发@离休 …", "群发@独居 …", "群发#书画组 …" (a tag).
BROADCAST_DRAFT: Final = re.compile(
    r"^\s*群发\s*(?:([@＠#＃])\s*(\S+))?\s*[:：]?\s*(.+)$", re.S
)  # "@" a district or 离休/退休/独居, "#" a tag
BROADCAST_SCOPES: Final = {
    "离休": ("category", "lixiu"),
    "退休": ("category", "tuixiu"),
    "独居": ("lives_alone", True),
}
TAG_MARKS: Final = "#＃"  # "群发#书画组": the scope is a tag

# The dialogue layer: answers to the bot's own questions and what a conversation keeps.
COUPLE: Final = re.compile(
    r"爸妈|父母|二老|老两口|两口子|我们俩|咱俩|俩人都|两个人都|两个都|俩都|都去|都报|都参加"
    r"|(?:老伴|爱人|老婆|老公|老头子?)也(?:一块儿?|一起)?(?:去|报|参加)"
    r"|[我俺](?:和|跟|与|同)[我俺]?(?:家)?(?:老伴|爱人|老头子?|老太婆|老婆)|[我俺]们老两口"
    r"|两个人(?!的)|俩人|我俩"
)
# One of a couple staying out ("我妈不去了", "我爸在家歇着"), or going alone ("就我一个人").
STAYS_OUT: Final = re.compile(
    r"不去|不报|不参加|不用(?:去|报)|就不|在家(?:歇|待|呆|休息)|去不了|算了"
)
ALONE: Final = re.compile(
    r"就(?:报|给)?我(?:自己|一个|本人)|我一个人|只报我|我自己去|就我去|只有我|光我"
)
SPOUSE_WORDS: Final = re.compile(r"老伴|老头子?|老太婆|爱人|老婆|我家那口子")
# Words of stopping ("不弄了", "不约了"); a day said after them is another day, not a stop.
DROPPED: Final = re.compile(r"不(?:弄|办|约|要|做|去|来)了|算了")
SELF_WORDS: Final = re.compile(r"我|自己")
BY_SURNAME: Final = "老"  # "老马": an older person called by surname
CLAUSE_BREAK: Final = re.compile(r"[，,。！？!?；;\s]+")
# The one a service is for, by pronoun ("能给她订个送餐吗").
# Two things said together ("明天和后天", "周二、周四"): what joins them.
AND_ALSO: Final = re.compile(r"\s*(?:和|跟|与|及|以及|还有|、|，|,|加上)\s*")
# A detail told at the read-back (two or more Chinese characters), unless it is a question.
DETAIL: Final = re.compile(r"[\u4e00-\u9fff].*[\u4e00-\u9fff]", re.S)
# Words about the booking itself (who, seats, cancelling, changing): not a note to keep.
ABOUT_THE_BOOKING: Final = re.compile(r"报|候补|排队|名额|位置|取消|退|改|换|不去|不要|别|算了")
QUESTION: Final = re.compile(
    r"[?？]|[吗嘛么呢不没][\s。！!]*$|(?:多少|几点|哪里|哪儿|什么|啥|怎么|咋|谁)"
)
# "我和…", "俺跟…" just before the other one is named: the two of them.
WITH_ME: Final = re.compile(r"[我俺][和跟与同](?:我家|俺家|我们家)?$")
# "不是我爸，是我妈": the one meant instead (group 1).
NOT_BUT: Final = re.compile(r"不是[^，,。\s]{1,8}[，,。\s]*(?:而)?是([^，,。\s]{1,8})")
# The generic word after an activity's name ("党日活动", "合唱的活动").
ACTIVITY_WORD: Final = re.compile(r"的?活动$")
# Words of booking or signing up, in the clause of a second request ("再给他报个健康讲座").
BOOKING_WORD: Final = re.compile(r"报(?!销)|约|订|登记|参加|挂(?:个)?号|陪")
# A second thing asked for besides the first ("下午再来个理发的", "打扫和理发").
ALSO: Final = re.compile(r"再|还要|还想|还得|另外|顺便|也要|也约|也给|以及|^\s*(?:和|跟|与|及|、)")
# The parts of a message that each name one thing ("礼拜三的打扫和礼拜六的讲座").
NAMED_PARTS: Final = re.compile(r"[^，,。；;\s和跟与及、]+")
# Asking to be signed up, not asking about the activity ("报", "报名", "给我报上").
SIGN_UP_WORD: Final = re.compile(r"报(?!销)|登记|算我一个|加我")
# On the waiting list instead of a seat ("我排候补", "他等下回").
WAITS: Final = re.compile(r"候补|排队|排着|等着|等下回|等下次")
HE: Final = re.compile(r"他")
SHE: Final = re.compile(r"她")
FOR_HER: Final = re.compile(r"(?:给|帮|为|替|让)她")
FOR_HIM: Final = re.compile(r"(?:给|帮|为|替|让)他")
# A son's or daughter's words for a parent (and a son- or daughter-in-law's), by gender.
FATHER: Final = re.compile(r"我爸|爸爸|老爸|我爹|父亲|老爷子|岳父|老丈人|公公|爷爷|外公|姥爷")
MOTHER: Final = re.compile(r"我妈|妈妈|老妈|我娘|母亲|老太太|岳母|丈母娘|婆婆|奶奶|外婆|姥姥")
YES_WITH_MORE: Final = re.compile(
    r"^\s*(?:[哦噢喔啊]+[\s,，]*)?(?:那就|那)?\s*(?:对的|对(?!了)|是的|是啊|是|好的|好啊|好|行啊|行|可以|确认|确定|没错|嗯+|中|成|要得|没问题"
    r"|就这样|就这么办|ok|OK|Ok)"
)
YES_TAKEN_BACK: Final = re.compile(r"不|别|没|错|改|换|但|可是|不过")
MOVE_TO: Final = re.compile(r"改到|改成|改在|换到|换成|挪到|推到|调到|延到|延后到|提前到")
BED: Final = re.compile(r"(\d{1,3}|[一二两三四五六七八九十]{1,3})\s*(?:号)?床")
PICK_FILLER: Final = re.compile(
    r"那一个|这一个|那个|这个|那项|这项|那条|这条|那次|就选|就要|就是|我要|选|要|吧|呀|啊|呢|的|取消|报名|报上|报"
)
PICK_POINTING: Final = re.compile(
    r"那个|这个|那一个|这一个|那项|这项|那条|这条|那次|头一个|第.个|最后|倒数|最前|最早|最晚"
)
PICK_FIRST: Final = re.compile(r"头一个|第一个|第一项|最前面|最上面|首个|最早")
PICK_LAST: Final = re.compile(r"最后|末一个|最下面|最晚")
PICK_FROM_END: Final = re.compile(r"倒数第([一二三四五六七八九\d])")
UNDECIDED: Final = re.compile(r"待定|帮我定|你们定|给定|不知道|不清楚|说不好|随便")
HOSPITAL_WORDS: Final = re.compile(r"医院|院|卫生|中心|诊所|保健")
MONTH_SAID: Final = re.compile(r"月|[-/.]")  # a date said with its month
SAID_WRONG: Final = re.compile(r"不对|说错了|说错|哦不|不不|搞错了|记错了")  # a slip put right
NEXT_SAID: Final = re.compile(r"下|明|后天|大后天|今")  # a day said to come ("下礼拜三", "明天")
WEEKDAY_SAID: Final = re.compile(r"(?:礼拜|星期|周)[一二三四五六日天1-7]")
# A stay still to come, said as planned ("下礼拜三要住进二院", "准备住院做手术").
STAY_PLANNED: Final = re.compile(
    r"(?:要|准备|打算|安排|将|约了|定了|预约).{0,8}(?:住|入院)|住进去做|先报备"
)
STAY_VERB: Final = re.compile(r"住(?:进|院|的院|下|了)|入院|收进")  # the word of a hospital stay
CLAIM_WORDS: Final = re.compile(r"单子|单据|票据|发票|报销")  # handing in bills
# Taking the one thing just offered ("报名戏曲沙龙" shown, "对" typed): plain yeses only —
# "好" alone may only mean "I see".
TAKE_THE_OFFER: Final = frozenset(
    {"对", "对的", "是", "是的", "行", "可以", "要", "确认", "报吧", "报上", "报名"}
)
# Parts of a message, and a part that keeps something ("后天的还要", "周五的照常").
CLAUSES: Final = re.compile(r"[^，,。；;\s]+")
KEEP: Final = re.compile(r"还要|留着|不变|不动|不改|不退|照常|照旧|别取消|不取消|保留|继续去")
# Lists said in words: a week, and kinds of activity (words of their titles or categories).
NEXT_WEEK: Final = re.compile(r"下周|下礼拜|下星期|下个礼拜|下个星期")
THIS_WEEK: Final = re.compile(r"这周|本周|这礼拜|这个礼拜|这星期|这个星期")
ACTIVITY_KINDS: Final = (
    (re.compile(r"唱歌|唱的"), ("合唱", "戏曲")),
    (re.compile(r"合唱|歌咏"), ("合唱",)),
    (re.compile(r"唱戏|听戏|戏曲|京剧|越剧|昆曲|评弹|锡剧|沪剧"), ("戏曲",)),
    (re.compile(r"画画|画的|书法|写字|书画"), ("书法", "国画")),
    (re.compile(r"锻炼|运动|健身|太极|打拳"), ("太极",)),
    (re.compile(r"旅游|出去玩|出游|一日游|游玩"), ("trip",)),
    (re.compile(r"讲座|听课|健康知识"), ("lecture",)),
    (re.compile(r"电影|看片"), ("电影",)),
    (re.compile(r"党日|党员活动|组织生活"), ("party_day",)),
    (re.compile(r"志愿|义务"), ("volunteer",)),
)
# Asking who will come, or when, about one's own booking ("谁陪我去", "几点到", "人定了没").
# A question about an activity's particulars ("几点集合 在哪", "要交钱不", "还有位子吗").
ASKS_DETAIL: Final = re.compile(
    r"几点|几时|啥时候|什么时候|哪天|哪一天|礼拜几|星期几|周几|上午还是下午|在哪|哪儿|哪里|啥地方"
    r"|什么地方|地点|地方|集合|教室|报告厅|远不远|多远|怎么去|收费|要钱|交钱|多少钱|费用|花钱|免费"
    r"|带什么|带啥|要带|讲什么|讲啥|内容|学什么|学啥|谁能|谁可以|能参加|能去|位子|位置|名额|满了"
)
# Going on with what was left ("接着办", "继续刚才的", "刚才那个接着约").
GO_ON: Final = re.compile(
    r"接着(?:办|约|弄|来|说|报)|继续(?:办|约|弄|刚才)|刚才(?:的|那个|那件).{0,6}接着|回到刚才"
    r"|刚才.{0,6}也(?:约|办|报|弄)"
)
# Asking for a list of activities, not about one ("最近有什么活动", "还有别的课吗").
LIST_WORDS: Final = re.compile(r"活动|什么课|啥课|哪些|别的|其他|还有什么|还有啥|都有")
ASKS_WHO_WHEN: Final = re.compile(
    r"谁陪|谁来|谁去|是谁|叫啥|叫什么|哪位|定了没|定下来没|安排了没|安排好了没"
    r"|几点(?:来|到|过来|上门)|啥时候(?:来|到)|什么时候(?:来|到)"
)
# Numerals of a reply picking from a list ("二", "第三个"), and what is trimmed around them.
NUMERALS: Final = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
OPTION_TRIM: Final = "第个项条。.,，、!！ 　"
# "第二个", "第3项": the place in a list.
NTH: Final = re.compile(r"第\s*(\d{1,2}|[一二两三四五六七八九十])\s*(?:个|项|条|件|次|样)")
# Between the words of a reply.
WORD_BREAK: Final = re.compile(r"[\s,，。.!！?？、]+")

# --- policies by region (handlers/policy.py)
# The region of articles that apply everywhere.
NATIONAL_REGION: Final = "全国"
# What each region is part of, for the regions of the bureau's documents: an article of a
# province applies in its cities, a national one everywhere. A city not listed here has
# only its own and national articles; add it (city → province) to give it its province's.
REGION_PARENTS: Final = {
    "苏州": "江苏",
    "江苏": NATIONAL_REGION,
    "浙江": NATIONAL_REGION,
    "江西": NATIONAL_REGION,
}
# "江苏省", "苏州市": the same regions as "江苏", "苏州".
REGION_SUFFIX: Final = re.compile(r"(?<=..)[省市]$")
# Asking for one's own figure ("我的离休费是多少", "我每个月能拿多少", "我爸的护理费发了多少"):
# only the person's file answers that, so a person does, never an article's general figure.
_OWNER = r"(?:我|俺|咱)家?(?:爸|妈|父亲|母亲|老伴|爱人|老头子?|老太太?)?的?"
_WHEN = r"(?:这个月|上个月|每个?月|一个月|今年|现在)?"
_PAY = r"(?:离休费|退休费|退休金|养老金|工资|护理费|生活补贴|补贴|补助|待遇)"
_AMOUNT = r"(?:多少|几百|几千|几块)"
PERSONAL_FIGURE: Final = re.compile(
    rf"{_OWNER}{_WHEN}{_PAY}[^，。？！,.?!\s]{{0,6}}?{_AMOUNT}"
    rf"|{_OWNER}{_WHEN}(?:能|可以)?(?:拿|领|发)(?:了|到)?{_AMOUNT}"
)

# Someone with an open emergency asking after help ("还没有人来吗", "人呢", "快点来"): read
# only while their emergency is open (bot/routing.py), where it can mean nothing else.
STILL_WAITING: Final = re.compile(
    r"人呢|还没(有)?人|怎么还没|(没|没有)人(来|管|理)|还不来|(什么时候|多久|几时)(能|才)?(来|到)"
    r"|快(点|些)?(来|过来)|等了?(好久|半天|很久|这么久)|有人(来|管|在)?吗|来了没|到哪(了|儿)"
    r"|到了没|咋还没|怎么没人"
)
