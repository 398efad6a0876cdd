{#
  dbt calls get_where_subquery(relation) on the model a generic test checks; this override (the
  documented way to customise test filtering) adds the partition window: a test on a model whose
  config declares `meta: {window_column: <day column>}` checks only the rows of
  {{ min_date() }}..{{ max_date() }}, the window Dagster passes. A test's own `config: where:` still
  applies, and-ed with it. Models without a window column are tested whole, as before.
#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set attached = model.get('attached_node') if execute else none -%}
    {%- set window_column = graph.nodes[attached].config.meta.get('window_column') if attached in graph.nodes else none -%}
    {%- if window_column -%}
        {%- do filters.append(window_column ~ ' between ' ~ min_date() ~ ' and ' ~ max_date()) -%}
    {%- endif -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do filters.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if filters -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ filters | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
