{# Use the configured schema as-is (raw, staging, intermediate, marts): the marts schema is the published contract. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
