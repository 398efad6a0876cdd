{# select * from stg_<network>__<entity> for every configured network, unioned by name. #}
{% macro union_networks(entity) -%}
{%- for network in var('networks') %}
select * from {{ ref('stg_' ~ network ~ '__' ~ entity) }}
{% if not loop.last %}union all by name{% endif %}
{%- endfor %}
{%- endmacro %}
