"""xlplugin — checks 部门决算公开 workbooks (the 说明 and the nine tables).

Glossary (English identifier = Chinese term): fiscal appropriation = 财政拨款,
basic expenditure = 基本支出, project expenditure = 项目支出, carry-over and
balance = 结转和结余, functional classification = 功能分类, economic
classification = 经济分类, class/section/item = 类/款/项, amount unit = 金额单位.
"""

__version__ = "0.1.0"
