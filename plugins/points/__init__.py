"""积分管理 + 时间银行: points for retired cadres' contributions and the volunteer time bank."""

from core.plugin_host import PluginInfo

PLUGIN = PluginInfo(
    name="points",
    version="0.1.0",
    title_zh="积分管理与时间银行",
    title_en="Points and time bank",
    description="积分规则、积分台账、年度周期与季度公示、星级党员、志愿服务时间银行（以行储币、以币换物）",
)
