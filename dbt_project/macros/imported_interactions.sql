{# raw.import_interactions, or an empty relation of its columns before anything was ever imported:
   `make import` creates the table, and a warehouse that never imported must still build. #}
{% macro imported_interactions() -%}
{%- set relation = source('raw', 'import_interactions') -%}
{%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
(select
    null::varchar as network, null::varchar as post_id, null::varchar as author_account_id,
    null::timestamptz as posted_at, null::varchar as text, null::varchar as reactor_account_id,
    null::varchar as reaction_type, null::varchar as source_reaction_type, null::timestamptz as reacted_at,
    null::date as partition_day, null::varchar as source_file, null::varchar as source_sha256,
    null::bigint as source_line, null::timestamptz as fetched_at
where false)
{%- else -%}
{{ relation }}
{%- endif -%}
{%- endmacro %}
