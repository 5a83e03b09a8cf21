"""关心下一代: youth-education stations (校外教育辅导站) and their "五老" counsellors."""

from core.plugin_host import PluginInfo

PLUGIN = PluginInfo(
    name="education",
    version="0.1.0",
    title_zh="关心下一代",
    title_en="Youth education",
    description="校外教育辅导站、“五老”辅导员、活动记录、结对帮扶",
)
