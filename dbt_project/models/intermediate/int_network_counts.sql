-- Every registered network's stg_<network>__counts in one relation, so models downstream (and
-- their unit tests) name one input, not one per network.
select * from ({{ union_networks('counts') }})
