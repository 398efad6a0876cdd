{#
  dbt_utils' generic tests that this project uses, with the same names and arguments.
  dbt_utils itself cannot be installed here (hub.getdbt.com is unreachable and it is not on PyPI);
  when it is, add it to packages.yml and prefix these tests with `dbt_utils.`.
#}
{% test expression_is_true(model, expression, column_name=none, where=none) %}
select * from {{ model }}
where not ({{ column_name ~ ' ' if column_name else '' }}{{ expression }})
{% endtest %}

{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
select * from {{ model }}
where {{ column_name }} is not null and (false
  {%- if min_value is not none %} or {{ column_name }} {{ '<' if inclusive else '<=' }} {{ min_value }}{% endif %}
  {%- if max_value is not none %} or {{ column_name }} {{ '>' if inclusive else '>=' }} {{ max_value }}{% endif %})
{% endtest %}

{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as n
from {{ model }}
group by all
having count(*) > 1
{% endtest %}
