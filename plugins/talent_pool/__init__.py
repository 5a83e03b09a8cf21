"""银发人才库: retired experts matched to local needs."""

from core.plugin_host import PluginInfo

PLUGIN = PluginInfo(
    name="talent_pool",
    version="0.1.0",
    title_zh="银发人才库",
    title_en="Silver talent pool",
    description="人才入库与复审、需求清单与智能匹配、服务记录、智囊团、人才工作站",
)
