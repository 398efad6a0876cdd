{# select * from stg_<network>__<entity> for every configured network, unioned by name, then the
   rows imported from files (staging/imports: each row carries one of vars.imported_networks). #}
{% macro union_networks(entity) -%}
{%- for network in var('networks') + ['imports'] %}
select * from {{ ref('stg_' ~ network ~ '__' ~ entity) }}
{% if not loop.last %}union all by name{% endif %}
{%- endfor %}
{%- endmacro %}
