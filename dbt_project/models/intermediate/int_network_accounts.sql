-- Every registered network's account snapshots in one relation, so models downstream (and their
-- unit tests) name one input, not one per network.
select * from ({{ union_networks('accounts') }})
