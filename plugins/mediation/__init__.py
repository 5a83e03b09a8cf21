"""银龄调解室: mediation rooms run by retired cadres."""

from core.plugin_host import PluginInfo

PLUGIN = PluginInfo(
    name="mediation",
    version="0.1.0",
    title_zh="银龄调解室",
    title_en="Mediation rooms",
    description="调解室与调解员、案件受理到回访的全流程、调解协议书、卷宗、信访事项",
)
