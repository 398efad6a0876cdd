{# The partition window as SQL date literals, from the --vars Dagster passes. #}
{% macro min_date() %}cast('{{ var("min_date") }}' as date){% endmacro %}
{% macro max_date() %}cast('{{ var("max_date") }}' as date){% endmacro %}

{# Exponential decay weight of an event `age_days` old: 1 today, 0.5 one half-life ago. #}
{% macro decay_weight(age_days) %}power(0.5, ({{ age_days }}) / {{ var("half_life_days") }}::double){% endmacro %}

{# A reactor's selectivity weight: the more reactions they hand out that day, the less each counts. #}
{% macro selectivity_weight(reactions_given) %}(1.0 / power(greatest({{ reactions_given }}, 1), {{ var("selectivity_exponent") }}::double)){% endmacro %}

{# Post text without HTML tags or the common entities (Mastodon `content` is HTML). #}
{% macro strip_html(column) -%}
trim(regexp_replace(
    replace(replace(replace(replace(replace(replace(
        regexp_replace({{ column }}, '<[^>]*>', ' ', 'g'),
        '&quot;', '"'), '&#39;', ''''), '&lt;', '<'), '&gt;', '>'), '&nbsp;', ' '), '&amp;', '&'),
    '\s+', ' ', 'g'))
{%- endmacro %}

{# pre_hook of partitioned incremental models: re-running a window replaces exactly that window,
   including days that now have no rows (delete+insert on the keys present would leave those). #}
{% macro replace_window(column) %}
{% if is_incremental() %}delete from {{ this }} where {{ column }} between {{ min_date() }} and {{ max_date() }}{% endif %}
{% endmacro %}

{# 2^((day - decay_epoch) / half_life): a fixed lift, so decayed window sums are plain window sums
   (0.5^((as_of - d)/h) = lift(d) / lift(as_of)) and every run does the same arithmetic. #}
{% macro lift(day) %}power(2.0, ({{ day }} - cast('{{ var("decay_epoch") }}' as date)) / {{ var("half_life_days") }}::double){% endmacro %}

{# sum() of doubles, the same to the last bit whatever order the rows arrive in: DuckDB's parallel
   hash aggregate adds each thread's rows in the order they came, so a plain sum of three or more
   doubles can differ between two runs over the same rows. The values are added smallest first. #}
{% macro ordered_sum(expression) %}list_sum(list({{ expression }} order by {{ expression }})){% endmacro %}

{# The rows of `relation` that win per `partition_by` (first by `order_by`): the one dedupe every
   staging model needs, written once. #}
{% macro first_per(relation, partition_by, order_by) -%}
(select * from {{ relation }} qualify row_number() over (partition by {{ partition_by }} order by {{ order_by }}) = 1)
{%- endmacro %}
