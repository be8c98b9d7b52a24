"""The emergency guard: an emergency never hinges on the classifier alone.

Words and patterns for danger *now* (a fall one cannot get up from, chest pain,
breathlessness, bleeding, unconsciousness, stroke signs, fire, gas, intruders, being
lost, a cry for help) force ``sos``. A past event or a planned visit
("上周摔了一跤想去查查") does not, and a question about the one-key device is not an
emergency either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Assessment", "assess"]


def _any(*words: str) -> re.Pattern[str]:
    """One pattern for many words; an entry may itself be a small regular expression."""
    return re.compile("|".join(sorted(words, key=len, reverse=True)))


# Someone the writer worries about, and the one-key device, inside the patterns below.
_KIN = (
    "(?:我妈|我爸|我母亲|我父亲|老父亲|老母亲|老人家?|老伴|老头子?|老太太"
    "|我婆婆|我公公|我奶奶|我爷爷|她|他)"
)
_DEVICE_WORD = "(?:一键通|一建通|一键呼|电子保姆|紧急呼叫器|呼叫器|紧急按钮|报警器)"


# Cries for help: they page staff, unless the rest of the message is plainly something else.
_CRIES = _any(
    "救命", "救救我", "救救", "快来人", "来人啊", "来人呐", "来人呀", "求救", "求助", "就命啊",
    "jiuming", "jiu ming",
)  # fmt: skip
# Danger so clear that only an explicit past or plan context can outweigh it.
_STRONG = _any(
    "快来救", "紧急求助", "紧急呼叫(?!器)", "一键呼叫", "一键求助", "叫救护车", "喊救护车", "打120",
    "打个120", "快打120", "喊120", "叫120", "sos", "报警(?!器)", "打110", "需要帮助", "不得了了",
    "急救(?!知识|培训|课|常识|包|箱|站|中心|电话|车费|车的费)", "敲门没人应", "敲门不应",
    "没人开门", "炭盆", "烧炭",
    "躺不下", "喘得.{0,3}(?:说不出|不行|厉害)", "^救[…。.!！\\s]*$", "(?:不行了){2}", "快派人",
    "赶紧派人", "快来帮忙", f"按了.{{0,3}}{_DEVICE_WORD}",
    f"{_DEVICE_WORD}.{{0,4}}(?:呼叫|按了|喂|快|救|帮帮)",
    "(?:拿着?|举着|带着)刀", "砍人", "踹门", "砸门",
    # on the floor
    "起不来", "爬不起来", "站不起来", "坐不起来", "起不了身", "倒在地上", "倒地上", "躺在地上",
    "倒在卫生间", "倒在厕所", "摔在地上", "瘫在地上", "动不了了", "动弹不得", "坐在地上", "坐地上",
    "趴在地上", "趴在床下", "就倒了", "倒下了", "浑身冰凉", "身上冰凉",
    # breathing
    "喘不上气", "喘不过气", "透不过气", "上不来气", "喘不上来", "呼吸困难", "没有呼吸", "没呼吸",
    "没气了", "不喘气", "憋得慌", "憋死", "喘不动",
    # consciousness
    "叫不醒", "喊不醒", "推不醒", "摇不醒", "昏迷", "晕过去", "昏过去", "晕倒", "昏倒", "不省人事",
    "人事不省", "天旋地转", "没反应", "没有反应", "没知觉", "休克", "抽搐", "抽风", "口吐白沫",
    "翻白眼", "叫也不应", "喊也不应", "不应声", "半天没出来",
    # stroke signs
    "嘴.{0,3}歪", "口眼歪斜", "半边身子", "半身不能动", "说不出话", "说不了话", "舌头发硬",
    "口齿不清", "说话.{0,3}不清", "手脚不听使唤", "一边手脚", "筷子掉了", "说话不利索",
    "口齿不利索", "说话含糊", "突然.{0,4}(?:手|脚|半边|一边).{0,4}(?:麻|没劲|不听使唤|动不了)",
    # bleeding
    "流血不止", "血止不住", "止不住血", "大出血", "吐血", "好多血", "一直流血", "满地是血",
    "血流不止", "流了好多血", "流了一地血", "头破了", "头破血流", "冒血", "全是血", "血糊糊",
    "血浸透", "血.{0,3}(?:一直|还在).{0,2}流", "心脏.{0,6}(?:绞|揪)", "鱼刺", "卡在嗓子", "咽不下",
    "吐不出",
    "倒在.{0,6}(?:边|旁|地上|床下|门口)", "在地上躺", "臭鸡蛋味", "还在冒烟", "火苗", "烤着了",
    "烧着了", "要我.{0,4}转钱", "逼着我", "赖在我家", "赖着不走", "走丢",
    "(?:人|他|她|他们)(?:还|就是|死活)?不(?:肯)?走了?", "自称.{0,14}(?:不走|要钱|转账|汇款|拿走)",
    # chest and heart
    "胸口疼得", "胸口剧痛", "胸口痛得", "心口疼得", "心口痛得", "心绞痛", "胸口压着", "心梗",
    "心脏不行了", "心脏病犯了", "心脏病发作", "胸口像压了", "硝酸甘油", "速效救心丸",
    "呼吸.{0,4}(?:急|困难|不上)", "嘴唇发[紫青麻]",
    # choking
    "噎住", "卡住喉咙", "卡在喉咙", "卡嗓子",
    # fire, gas, intruders
    "(?<!打不)(?<!点不)(?<!打得)着火", "失火", "起火", "火灾", "冒烟了", "烧起来了",
    "(?:煤气|燃气|天然气|液化气).{0,3}(?:泄漏|漏了|漏气|味)", "煤气中毒", "一氧化碳", "漏气了",
    "有股煤气", "焦糊味", "有人撬门", "撬锁", "小偷进", "抢劫", "有坏人", "有人闯进",
    # lost
    "走丢了", "走失", "找不到回家", "找不到家", "迷路了", "不知道自己在哪", "不认得路",
    "到现在都没回", "到现在还没回", "一直没回来", "人找不到了", "联系不上", "没回家", "回不去了",
    "不知道(?:这是|是)?(?:哪|什么地方)", "找不到(?:路|车站|回去)",
    f"{_KIN}.{{0,30}}(?:不接|没人接|打不通|没接|联系不上)",
    # generic severe
    "快不行了", "要不行了", "人不行了", "要死了", "疼死了", "痛死了", "难受死了", "受不了了",
    "快点来人", "赶紧来人", "马上来人", "快来啊", "快来呀", "快过来", "赶紧过来",
)  # fmt: skip

# Thoughts of ending one's life, and their warning signs said without its words: a
# farewell, the last word, being a burden, joining the dead, affairs put in order, the means
# made ready. Grave: they page at once, and no model's doubt makes them a question ("是紧急
# 情况吗？" answered "不是" by someone in despair would page nobody).
_SELF_HARM = _any(
    "活着没意思", "不想活", "活不下去", "想死", "寻死", "自杀", "轻生", "一了百了", "跳楼", "割腕",
    "想不开", "药.{0,4}准备好了", "农药", "安眠药.{0,8}(?:吃了|都吃|一瓶)",
    "吃了.{0,4}(?:一瓶|整瓶|半瓶|一把).{0,4}药", "药(?!费|钱|单|发票).{0,3}攒",
    "攒.{0,6}药(?!费|钱|单|发票|票)", "遗书", "不打算活",
    "了断",
    "最后一(?:句|次|面)(?:话)?(?!.{0,4}(?:课|班|场|天|期|名|个名额))", "永别", "来世", "下辈子见",
    "(?:不想|不愿|不能)(?:再)?拖累", "活着.{0,4}(?:拖累|累赘|受罪|多余)", "是个累赘",
    "(?:陪|找|见)(?:走了的|过世的|去世的|死去的|地下的|那边的)(?:老伴|老头|老太婆|老婆|爱人)",
    "后事.{0,6}交代", "交代(?:好)?(?:了)?后事",
    "以后不用再.{0,4}(?:打电话|管我|来看我)", "不用再管我了",
    "(?:绳子|刀|药|煤气).{0,4}(?:准备好了|系好了|挂好了|在手边|就在手边|都倒出来|开着呢)",
    "(?:存折|钱|东西|房子).{0,8}(?:分好了|留给.{0,4}了|交代好了)",
)  # fmt: skip

# Serious, but said also of the past or when asking for a check-up.
_SERIOUS = _any(
    "摔倒", "摔了一", "摔了跤", "摔了", "摔跤", "摔一跤", "跌倒", "跌了", "跌跤", "滑倒", "栽倒",
    "扑倒", "拽倒", "撞倒", "咬了", "咬伤", "摔到", "绊倒", "磕破", "胸口疼", "胸口痛", "胸痛",
    "心口疼", "心口痛", "胸闷", "出血", "流血", "喘", "中风", "脑梗", "烫伤", "烧伤", "骨折",
)  # fmt: skip

# Ailments that are urgent only when said to be severe or sudden.
_MILD = _any(
    "头晕", "头昏", "头疼", "头痛", "心慌", "痛", "心跳", "难受", "发烧", "高烧", "呕吐", "吐了",
    "肚子疼", "肚子痛", "腹痛", "血压", "血糖", "眼前发黑", "浑身没劲", "抽筋", "疼",
)  # fmt: skip
_SEVERE_WORDS = (
    "厉害", "得很", "受不了", "突然", "一下子", "剧烈", "要命", "不得了", "止不住", "越来越",
    "站不住", "看不清", "直冒冷汗", "冒冷汗", "出冷汗", "一身冷汗",
    "一直吐", "赶紧", "马上", "好难受", "太难受",
    "难受得", "难受死", "好痛", "好疼", "太痛", "太疼", "痛得", "疼得",
)  # fmt: skip
# A cry over a gadget ("救命啊 这个小程序咋这么难用"), and questions about money.
_TECH = _any(
    "手机", "小程序", "电脑", "软件", "网页", "微信", "app", "程序", "平板", "遥控器", "机顶盒",
    "字太小", "字这么小",
)  # fmt: skip
_MONEY = _any("的钱", "费用", "多少钱", "报销", "给报", "能报", "收费", "月费", "补贴")
# Complaints about memory ("上了岁数 啥也想不起来"): no danger in themselves.
_MEMORY = _any("想不起来", "记不起来", "记不住", "记性", "忘事", "老忘", "总忘", "爱忘")
# Said to be slight: worth asking about, not paging at once.
_SLIGHT = _any("有点", "有些", "一点点", "稍微", "略微", "有一点")
# "不厉害" is the opposite of severe.
_SEVERE = re.compile("(?<!不)(?:" + "|".join(_SEVERE_WORDS) + ")")

# Now: the danger is happening.
_PRESENT = _any(
    "(?<!到)现在(?!好|没事|不疼|稳|住|还|想|要|打算|就想)", "刚才", "刚刚", "这会儿", "正在",
    "此刻", "眼下", "赶紧", "马上",
    "一模一样", "跟上次一样", "又犯了", "又发作", "又来了", "立刻", "快点", "起不来", "爬不起来",
    "叫不醒", "不行了", "止不住", "还在流", "半天了", "害怕",
)  # fmt: skip

# Past events, plans and questions: reasons the words above are not an emergency.
_PAST = _any(
    "上周", "上个星期", "上星期", "上礼拜", "上个礼拜", "上个月", "上月", "前几天", "前两天",
    "前些天", "前一阵",
    "前阵子", "前段时间", "前些日子", "去年", "前年", "以前", "之前", "那次", "上次", "上回",
    "好几天了", "好些天", "几天了", "好久了", "老毛病", "几天前", "个月前", "年前", "曾经", "当时",
    "那时候", "后来", "已经好了", "好多了", "没事了", "出院", "自从", "[病风梗折伤]后", "后遗症",
    "犯病前", "年轻时候", "前天", "追悼会", "去世", "葬礼", "那回", "那年", "医生说",
    "(?:摔|跌|丢|晕|倒|犯|走失)过(?!去|来)",
)  # fmt: skip
_PLAN = _any(
    "想去", "想约", "预约", "约个", "挂号", "挂个号", "挂个", "挂一个", "陪诊", "陪我去", "陪他去",
    "陪她去", "复查", "查查", "查一查", "查一下", "检查", "拍个片", "拍片", "拍个", "看看医生",
    "看医生", "看个医生", "开点药", "开药", "拿药", "配药", "住院", "住了院", "住进", "报销",
    "发票", "体检", "医保", "陪护", "做个", "专家号", "门诊", "挂专家",
)  # fmt: skip
_PLAN_EXTRA = _any(
    "找时间", "抽空", "有空", "理疗", "康复", "恢复", "复诊", "看看能不能约", "换药", "开点",
    "按按", "装个", "装一", "订一", "剪剪", "来修", "修一下", "修理", "维修", "师傅",
)  # fmt: skip
# The person is already being cared for: in hospital, treated, or better.
_HANDLED = _any(
    "住院(?!报备|手续|要什么|的材料|怎么)", "注院", "住的院", "住着(?!个|一个|人|两个)", "收进去",
    "收住院",
    "住在.{0,8}(?:医院|院|科|病房|病床)", "现住", "住进", "住下",
    "送进", "拉到", "在医院(?!门口|外面|附近|旁边|路上)", "病房", "病床", "icu", "ccu",
    "(?<![没不未])抢救过来", "抢过来", "(?<![没不未])稳住了", "(?<![没不未])止住了", "打着石膏",
    "做了手术", "要手术", "等手术", "做手术",
    "没事了",
    "好多了", "已经好了", "现在好了", "现在不疼", "平稳", "稳定了", "治疗中", "出院",
    "(?<![没不未])缓过来", "(?<![没不未])救过来", "(?<![没不未])回来了", "人都没事", "虚惊一场",
    # a false alarm, over: what it turned out to be, a press by mistake, found again
    "原来是", "后来发现", "不用来人", "不用派人", "按错了", "误按", "误触", "不小心按",
    "(?<![没未])找(?:到|着|回来)了", "(?<![没不])联系上了", "自己(?:爬|站)?起来了",
    "哪(?:儿|里)?都不疼", "一点(?:儿)?(?:都)?不疼", "不是真的", "测试一下",
    "(?:说|看了|问了|看过了|去看过).{0,10}没事", "就好了", "(?<!还)好好的", "别担心", "不疼了",
    "不用(?:上门|过来|派人|担心)", "(?<![没不])打通了",
    "已经(?:叫了|打了|到了|来了|扑灭|灭了|解除|出来|送)",
    "扑灭", "解除了", "误报", "在急诊", "医生在看", "吐出来了", "没大碍",
)  # fmt: skip
# Questions about the device or about health facts, not calls for help.
_DEVICE = _any(
    "一键通", "电子保姆", "呼叫器", "设备", "机器", "按钮", "手环", "手表", "报警器", "功能",
    "按键", "求救键", "定位", "紧急呼叫", "一键", "键",
)  # fmt: skip
_DEVICE_QUESTION = _any(
    "怎么用", "怎么使用", "怎么申请", "如何申请", "能不能装", "怎么装", "多少钱", "要钱", "坏了",
    "没电", "充电", "电池", "说明书", "测试", "试一下", "演示", "怎么按", "有什么用", "谁能装",
    "能装吗", "可以装", "装一个", "不响", "没反应", "失灵", "误报", "按错", "误按", "不小心按",
    "设成", "设置", "在哪", "值班吗", "有人值班", "补贴", "免费", "充电", "关掉", "多久",
    "一般", "还能干", "能干啥", "服务费", "局里出", "真的假的", "月费", "交钱", "打给谁", "摘下来",
    "戴着",
)  # fmt: skip
_QUESTION = _any(
    "是什么", "什么是", "什么意思", "咋治", "怎么治", "吃什么", "要紧不", "要紧吗", "要不要紧",
    "高不高", "算高吗", "正常吗", "正常不", "有用吗", "管用吗", "能报吗", "能不能报", "报销",
    "电视剧", "电视里", "电视上", "电影里", "新闻", "小说", "梦见", "做梦", "笑话", "区别", "万一",
    "如果", "假如", "要是", "就是问问", "问一下", "问问", "补贴", "补助", "政策", "怕摔", "怕滑",
    "演练", "教做", "朋友圈", "抖音", "报纸", "相声", "小品", "台词", "开玩笑", "哈哈", "笑得",
    "高兴得", "是真的吗", "是不是真的", "能报", "报多少", "费用", "是谁接", "能干啥", "还能干",
    "是不是要", "一般", "多久", "多长时间", "服务费", "收费", "谁出钱", "局里出",
)  # fmt: skip
# Questions about health in general ("中风有哪些早期症状") or about what a word means,
# not about someone now.
_KNOWLEDGE = _any(
    "一般(?:是|都|有)", "(?:什么|啥)原因", "有哪些", "症状", "前兆", "征兆", "口诀", "常识",
    "(?:怎么|怎样|如何)(?:处理|判断|急救|预防|防止|保存)", "还能用吗", "管用吗", "多深",
    "是什么意思", "什么意思", "什么是", "是什么", "区别", "是不是真的", "是真的吗", "真的假的",
    "什么情况下", "还能(?:吃|用)", "行不行", "比较安全", "靠谱", "能治", "注意(?:哪些|什么)",
)  # fmt: skip
# Not happening to anyone here and now: a story, the news, a dream, a joke, a worry about
# some day ("万一着火了我怎么跑"), a pet.
_STORY = _any(
    "电视", "电影", "新闻", "小说", "听说", "梦见", "做梦", "噩梦", "抖音", "朋友圈", "报纸",
    "相声", "小品", "台词", "演的", "开玩笑", "哈哈", "笑死", "万一", "如果", "假如", "要是",
    "担心.{0,8}以后", "怕以后", "以后.{0,6}(?:怎么办|咋办)", "将来", "防走失", "防摔",
    "视频", "文章", "网上说", "有人说", "哪天", "有一天", "总担心", "就怕",
)  # fmt: skip
# Figures of speech that borrow emergency words.
_IDIOMS = _any(
    "救救急", "救个急", "救急",
    "救命稻草", "救命钱", "救命恩人", "救命之恩", "心疼死", "心疼", "热得要命", "冷得要命",
    "忙得要命", "累得要命", "贵得要命", "要命的是", "笑死", "热死", "累死", "气死", "饿死", "烦死",
    "无聊死", "吓死", "急性子", "美死", "困死", "闷死", "渴死", "冻死我了", "摔了个碗",
    "摔了个杯子", "摔了个盘子", "摔了手机", "摔坏了", "着火了似的", "火气",
    "救救我的(?:手机|电脑|电视|花|菜|牙)", "想得心口疼", "想得心慌",
    "(?:狗|猫|狗狗|猫咪|宠物|鹦鹉|鸟)(?:儿)?.{0,6}(?:呼吸|喘|摔|吐|病|走丢|走失|跑丢|丢|掉)了?",
    "气得.{0,4}(?:吐血|要死|心口疼)", "蚊子咬", "虫子咬",
    # the habit of sleeping late, said of a time to book ("改到下午吧 上午他起不来")
    "(?:上午|早上|早晨|一早|大清早|太早)[他她我俺]?起不来(?!了)",
)  # fmt: skip

# An emergency as the subject of a class or talk ("讲防摔倒的讲座", "教急救的课", "讲座 讲心梗
# 急救的那个"): a topic word, the danger word, and a class word close around it. Only that
# span is set aside; a real emergency elsewhere in the message still counts.
_TOPIC_DANGER = (
    "(?:摔倒|跌倒|摔跤|防摔|急救|心肺复苏|心梗|中风|脑梗|烫伤|骨折|火灾|消防|煤气|燃气|噎住|走失)"
)
_CLASS = "(?:讲座|课程|课|培训|知识讲座|班|宣讲|演练)"
_TOPIC = re.compile(
    f"(?:讲|教|学|防|预防|关于)[^，。！？!?\\s]{{0,6}}?{_TOPIC_DANGER}[^，。！？!?\\s]{{0,6}}?{_CLASS}"
    f"|{_CLASS}[^。！？!?]{{0,8}}?(?:讲|教|学)[^，。！？!?\\s]{{0,4}}?{_TOPIC_DANGER}+"
)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the guard makes of a message: force ``sos``, veto a classifier ``sos``, or neither."""

    force: bool
    veto: bool
    reason: str
    cry_only: bool = False  # forced by a cry for help alone, with no other danger word
    grave: bool = False  # thoughts of ending one's life: never made a question by a model
    denied: bool = False  # the only danger words are denied ("不是那种突然晕倒的")


def _blank(m: re.Match[str]) -> str:
    return " " * len(m[0])


# The clauses of a message: a question or a booking in one does not calm danger told in
# another ("请问住院报备要什么材料？我妈现在叫不醒").
_DENIED = re.compile("不是|没有|并非|不像|不会|倒不")
_DENIAL_REACH = 6  # characters before a danger word where a denial counts
_CLAUSES = re.compile("[，,。！？!?；;…~、\\s]+|另外|还有|顺便|对了|等等|哦对")


def assess(text: str) -> Assessment:
    """Judge normalised text for an emergency happening now: the message as a whole, then
    (where a danger word is calmed by the words around it) each clause on its own — unless
    the danger is over, someone is cared for already, or it is a story, which calm it all."""
    idiom = bool(_IDIOMS.search(text) or _TOPIC.search(text))
    text = _TOPIC.sub(_blank, _IDIOMS.sub(_blank, text))
    said = text
    text = _without_denied(text)
    whole = _judge(text, idiom)
    if text != said and not whole.force:
        return Assessment(False, True, "denied", denied=True)
    if whole.force or not (_STRONG.search(text) or _SELF_HARM.search(text)):
        return whole
    if _HANDLED.search(text) or _STORY.search(text):
        return whole
    for clause in _CLAUSES.split(text):
        part = _judge(clause, idiom=False)
        if part.force and not part.cry_only and part.reason.startswith("strong:"):
            return Assessment(True, False, f"clause {part.reason}", grave=part.grave)
    return whole


_CHRONIC = _any(
    "好几年", "好多年", "多少年", "几十年", "几年了", "多年", "常年", "老毛病", "一直这样"
)
_LONG = 80  # characters from which a message is read near its danger word
_NEAR = 20  # characters either side of it


def _near(pattern: re.Pattern[str], text: str, start: int, end: int) -> bool:
    """Whether the pattern is found within _NEAR characters of a span."""
    return bool(pattern.search(text[max(0, start - _NEAR) : end + _NEAR]))


def _without_denied(text: str) -> str:
    """The text with each danger denied just before it in its clause blanked, from the
    denial on ("不是那种突然晕倒的")."""
    for pattern in (_STRONG, _SERIOUS):  # talk of ending one's life is never set aside
        for m in pattern.finditer(text):
            start = max(0, m.start() - _DENIAL_REACH)
            before = _CLAUSES.split(text[start : m.start()])[-1]
            denial = _DENIED.search(before)
            if denial:
                begin = m.start() - len(before) + denial.start()
                text = text[:begin] + " " * (m.end() - begin) + text[m.end() :]
    return text


def _judge(text: str, idiom: bool) -> Assessment:
    story = bool(_STORY.search(text))
    present = bool(_PRESENT.search(text))
    past = bool(_PAST.search(text))
    plan = bool(_PLAN.search(text) or _PLAN_EXTRA.search(text))
    handled = bool(_HANDLED.search(text))
    asking = bool(_QUESTION.search(text))
    device = bool(_DEVICE.search(text) and _DEVICE_QUESTION.search(text))
    knowledge = bool(_KNOWLEDGE.search(text))
    question = asking or device or knowledge
    strong = _STRONG.search(text) or _SELF_HARM.search(text)
    cry = _CRIES.search(text)
    hit = strong or cry
    if hit:
        # Danger now, whatever else the message asks ("喘不上来 是不是该挂个号"): only a
        # past event, someone already cared for or a false alarm over, or a question about
        # the device or about health in general, make it calm. A device that "没电" while
        # someone cannot breathe is no question about the device.
        money = bool(_MONEY.search(text))
        if handled or ((past or device or knowledge or story or money) and not present):
            return Assessment(False, True, f"strong:{hit[0]}+context")
        danger = bool(strong or _SERIOUS.search(text) or _MILD.search(text))
        if not danger and _TECH.search(text):  # a cry over a phone or an app
            return Assessment(False, True, f"cry:{hit[0]}+gadget")
        grave = bool(_SELF_HARM.search(text))
        return Assessment(True, False, f"strong:{hit[0]}", cry_only=not danger, grave=grave)
    serious = _SERIOUS.search(text)
    if serious:
        # Said to be happening now ("我现在心脏这里绞着疼"), a plan or a question about it
        # does not make it calm; a past event, someone cared for, a story does. Nor does it
        # when said to be severe ("心口疼 出冷汗 要不要约个心内科"): danger now, whatever else.
        # In a long message, "now" is read near the danger word: "现在的小年轻都这样" far
        # from "洗澡总怕滑倒" says nothing of the fall.
        if len(text) > _LONG:
            present = _near(_PRESENT, text, serious.start(), serious.end())
        if handled or story or (past and not present):
            return Assessment(False, True, f"serious:{serious[0]}+context")
        if (plan or question) and not present and not _SEVERE.search(text):
            return Assessment(False, True, f"serious:{serious[0]}+question")
        return Assessment(True, False, f"serious:{serious[0]}")
    mild = _MILD.search(text)
    # a pain of years ("腰疼得厉害好几年了 想约个推拿") is no emergency now; a grave one still is
    chronic = bool(_CHRONIC.search(text))
    calm = past or plan or handled or question or story or chronic
    if mild and _SEVERE.search(text) and not calm:
        return Assessment(True, False, f"mild:{mild[0]}+severe")
    if mild and _SLIGHT.search(text) and not _SEVERE.search(text):
        return Assessment(False, True, f"mild:{mild[0]}+slight")  # "头有点晕": ask
    slight = bool(_SLIGHT.search(text)) and not _SEVERE.search(text)
    veto = calm or idiom or slight or bool(_MEMORY.search(text))
    return Assessment(False, veto, "no danger words" + ("; context" if veto else ""))
