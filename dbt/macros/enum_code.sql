{#- Generated from sources/contracts by `python -m dagster_project.transform.sources`; do not edit. -#}
{% macro enum_code(table, column) -%}
{%- set labels = {
    'staffing.units.admin_level': {'省级': 'province', '市级': 'city', '县级': 'county'},
    'staffing.units.unit_type': {'机关': 'agency', '参公事业单位': 'civil_service_institution', '事业单位': 'institution'},
    'staffing.establishment.staffing_type': {'行政编制': 'administrative', '政法专项编制': 'political_legal', '参公事业编制': 'civil_service_institution', '事业编制': 'institution', '工勤编制': 'logistics'},
    'staffing.establishment.change_reason': {'三定': 'sanding', '调整': 'adjustment', '主动精简': 'voluntary_reduction', '划转': 'transfer'},
    'staffing.persons.gender': {'男': 'M', '女': 'F'},
    'staffing.persons.staffing_type': {'行政编制': 'administrative', '政法专项编制': 'political_legal', '参公事业编制': 'civil_service_institution', '事业编制': 'institution', '工勤编制': 'logistics'},
    'staffing.persons.position_kind': {'正职领导': 'chief_leader', '副职领导': 'deputy_leader', '工作人员': 'staff'},
    'staffing.persons.status': {'在职': 'active', '退休': 'retired', '调出': 'transferred_out', '辞退': 'dismissed', '死亡': 'deceased'},
    'performance.awards.level': {'国家级': 'national', '省级': 'provincial', '市级': 'municipal'},
    'performance.incidents.kind': {'通报批评': 'criticism', '问责': 'accountability', '一票否决': 'veto'},
    'performance.tasks.indicator_code': {'重点工作': 'key_work', '改革任务': 'reform', '服务市场主体': 'market_service', '服务基层': 'grassroots_service'},
    'performance.tasks.origin': {'上级部署': 'superior_deployment', '本级职能': 'unit_function', '新增长期': 'new_long_term'},
    'performance.progress.verified_status': {'待核验': 'pending', '已核验': 'verified', '虚报': 'false_report'},
    'performance.reviews.reviewer_group': {'领导评议': 'leaders', '同级互评': 'peers', '服务对象评议': 'service_objects'},
    'performance.roster.category': {'服务经济': 'economic', '社会民生': 'social', '综合保障': 'support'},
} -%}
case {{ column }}{% for label, code in labels[table ~ '.' ~ column].items() %} when '{{ label }}' then '{{ code }}'{% endfor %} else {{ column }} end
{%- endmacro %}
