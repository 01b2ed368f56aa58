"""The Office add-in manifest (Excel 365 / Excel on the web) served at /manifest.xml.

Same tab as the desktop add-in: 决算校验 with 校验, 清除标记, 新建模板, 关于 (ExecuteFunction
buttons of commands.html), plus the task pane. Every URL points at this server, so the add-in
works on an intranet; Office requires the server to be reached over HTTPS.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .. import __version__

ADDIN_ID = "6c4a2f1e-9d3b-4e55-8f0a-3b2d1c7e9a41"  # fixed: Office identifies the add-in by it
BUTTONS = [
    ("btnValidate", "校验", "检查九张表的表内、表间勾稽关系和科目编码，问题单元格着色并加批注。", "DataValidation"),
    ("btnClear", "清除标记", "恢复被标注单元格原来的底色，删除“审核结果”页。", "ClearFormats"),
    ("btnTemplate", "新建模板", "在当前工作簿中插入九张表空白模板。", "FileNew"),
    ("btnAbout", "关于", "版本、规则来源和问题反馈方式。", "Info"),
]


def manifest(base: str) -> str:
    """The manifest for a server reached at `base` (e.g. https://xlplugin.intranet/)."""
    base = base.rstrip("/") + "/"
    url = lambda path: escape(base + path)  # noqa: E731
    controls = "".join(
        f"""
                <Control xsi:type="Button" id="{button}">
                  <Label resid="{button}.Label"/>
                  <Supertip><Title resid="{button}.Label"/><Description resid="{button}.Tip"/></Supertip>
                  <Icon><bt:Image size="16" resid="Icon.16"/><bt:Image size="32" resid="Icon.32"/><bt:Image size="80" resid="Icon.80"/></Icon>
                  <Action xsi:type="ExecuteFunction"><FunctionName>{button}</FunctionName></Action>
                </Control>"""
        for button, _, _, _ in BUTTONS
    )
    labels = "".join(f'\n          <bt:String id="{b}.Label" DefaultValue="{escape(label)}"/>' for b, label, _, _ in BUTTONS)
    tips = "".join(f'\n          <bt:String id="{b}.Tip" DefaultValue="{escape(tip)}"/>' for b, _, tip, _ in BUTTONS)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OfficeApp xmlns="http://schemas.microsoft.com/office/appforoffice/1.1"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
           xmlns:bt="http://schemas.microsoft.com/office/officeappbasictypes/1.0"
           xmlns:ov="http://schemas.microsoft.com/office/taskpaneappversionoverrides"
           xsi:type="TaskPaneApp">
  <Id>{ADDIN_ID}</Id>
  <Version>{__version__}.0</Version>
  <ProviderName>xlplugin</ProviderName>
  <DefaultLocale>zh-CN</DefaultLocale>
  <DisplayName DefaultValue="决算校验"/>
  <Description DefaultValue="部门决算公开九张表校验：表内、表间勾稽关系，科目编码，空表说明。"/>
  <IconUrl DefaultValue="{url('static/icon-32.png')}"/>
  <HighResolutionIconUrl DefaultValue="{url('static/icon-80.png')}"/>
  <SupportUrl DefaultValue="{url('')}"/>
  <AppDomains><AppDomain>{escape(base.rstrip('/'))}</AppDomain></AppDomains>
  <Hosts><Host Name="Workbook"/></Hosts>
  <Requirements><Sets DefaultMinVersion="1.1"><Set Name="ExcelApi" MinVersion="1.9"/></Sets></Requirements>
  <DefaultSettings><SourceLocation DefaultValue="{url('static/taskpane.html')}"/></DefaultSettings>
  <Permissions>ReadWriteDocument</Permissions>
  <VersionOverrides xmlns="http://schemas.microsoft.com/office/taskpaneappversionoverrides" xsi:type="VersionOverridesV1_0">
    <Hosts>
      <Host xsi:type="Workbook">
        <DesktopFormFactor>
          <FunctionFile resid="Commands.Url"/>
          <ExtensionPoint xsi:type="PrimaryCommandSurface">
            <CustomTab id="tabXlplugin">
              <Group id="grpXlplugin">
                <Label resid="Group.Label"/>
                <Icon><bt:Image size="16" resid="Icon.16"/><bt:Image size="32" resid="Icon.32"/><bt:Image size="80" resid="Icon.80"/></Icon>{controls}
              </Group>
              <Label resid="Tab.Label"/>
            </CustomTab>
          </ExtensionPoint>
        </DesktopFormFactor>
      </Host>
    </Hosts>
    <Resources>
      <bt:Images>
        <bt:Image id="Icon.16" DefaultValue="{url('static/icon-16.png')}"/>
        <bt:Image id="Icon.32" DefaultValue="{url('static/icon-32.png')}"/>
        <bt:Image id="Icon.80" DefaultValue="{url('static/icon-80.png')}"/>
      </bt:Images>
      <bt:Urls>
        <bt:Url id="Commands.Url" DefaultValue="{url('static/commands.html')}"/>
        <bt:Url id="Taskpane.Url" DefaultValue="{url('static/taskpane.html')}"/>
      </bt:Urls>
      <bt:ShortStrings>
          <bt:String id="Tab.Label" DefaultValue="决算校验"/>
          <bt:String id="Group.Label" DefaultValue="部门决算公开"/>{labels}
      </bt:ShortStrings>
      <bt:LongStrings>{tips}
      </bt:LongStrings>
    </Resources>
  </VersionOverrides>
</OfficeApp>
"""
