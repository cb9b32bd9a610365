//! Pub/sub commands (Redis's pubsub.c): SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE,
//! PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB.
//! The state and delivery live in [`crate::pubsub`].

use corvid_proto::resp::Args;

use crate::dispatch::{Ctx, Registry};
use crate::errors::{CmdError, CmdResult};
use crate::pubsub::{self, Kind};

/// SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE name [name ...]: one confirmation
/// per name, with the client's subscription count after it.
fn subscribe_to(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind) -> CmdResult {
    if ctx.srv.in_exec && kind == Kind::Shard {
        // Redis lets SUBSCRIBE and PSUBSCRIBE run inside MULTI/EXEC but
        // treats an EXEC'd SSUBSCRIBE as a client that may not block.
        return Err(CmdError::err(format!(
            "{} isn't allowed for a DENY BLOCKING client",
            String::from_utf8_lossy(args.get(0)).to_uppercase()
        )));
    }
    for name in args.iter().skip(1) {
        pubsub::subscribe(ctx.srv, ctx.client_id, kind, name);
        let count = ctx.client().subs.count_for(kind);
        pubsub::write_ack(ctx.srv, ctx.client_id, ctx.out, kind.subscribe_word(), Some(name), count);
    }
    Ok(())
}

/// UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE [name ...]: no names means all
/// of them; with none to drop, one confirmation with a nil name.
fn unsubscribe_from(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind) -> CmdResult {
    let names: Vec<Vec<u8>> = if args.len() > 1 {
        args.iter().skip(1).map(<[u8]>::to_vec).collect()
    } else {
        ctx.client().subs.of(kind).iter().cloned().collect()
    };
    if names.is_empty() {
        let count = ctx.client().subs.count_for(kind);
        pubsub::write_ack(ctx.srv, ctx.client_id, ctx.out, kind.unsubscribe_word(), None, count);
        return Ok(());
    }
    for name in names {
        pubsub::unsubscribe(ctx.srv, ctx.client_id, kind, &name);
        let count = ctx.client().subs.count_for(kind);
        pubsub::write_ack(ctx.srv, ctx.client_id, ctx.out, kind.unsubscribe_word(), Some(&name), count);
    }
    Ok(())
}

fn subscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    subscribe_to(ctx, args, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    subscribe_to(ctx, args, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    subscribe_to(ctx, args, Kind::Shard)
}

fn unsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    unsubscribe_from(ctx, args, Kind::Channel)
}

fn punsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    unsubscribe_from(ctx, args, Kind::Pattern)
}

fn sunsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    unsubscribe_from(ctx, args, Kind::Shard)
}

/// PUBLISH channel message: the number of clients that received it.
fn publish(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = pubsub::publish(ctx.srv, Kind::Channel, args.get(1), args.get(2), Some(ctx.client_id), ctx.out);
    // Subscribers connected to replicas hear it too (forceCommandPropagation).
    crate::replication::propagate_to_replicas(ctx.srv, ctx.db, &[args.get(0), args.get(1), args.get(2)]);
    ctx.out.int(n as i64);
    Ok(())
}

/// SPUBLISH shardchannel message
fn spublish(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = pubsub::publish(ctx.srv, Kind::Shard, args.get(1), args.get(2), Some(ctx.client_id), ctx.out);
    ctx.out.int(n as i64);
    Ok(())
}

/// PUBSUB CHANNELS [pattern] / SHARDCHANNELS [pattern]
fn list_channels(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Arity(ctx.spec.full_name.to_string()));
    }
    let pattern = (args.len() == 3).then(|| args.get(2));
    let names: Vec<Vec<u8>> = ctx.srv.pubsub.active(kind, pattern).into_iter().map(<[u8]>::to_vec).collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(&n);
    }
    Ok(())
}

fn pubsub_channels(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    list_channels(ctx, args, Kind::Channel)
}

fn pubsub_shardchannels(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    list_channels(ctx, args, Kind::Shard)
}

/// PUBSUB NUMSUB / SHARDNUMSUB [channel ...]: channel, count pairs in a flat array.
fn count_subscribers(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind) -> CmdResult {
    ctx.out.array((args.len() - 2) * 2);
    for ch in args.iter().skip(2) {
        ctx.out.bulk(ch);
        ctx.out.int(ctx.srv.pubsub.subscribers(kind, ch) as i64);
    }
    Ok(())
}

fn pubsub_numsub(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    count_subscribers(ctx, args, Kind::Channel)
}

fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    count_subscribers(ctx, args, Kind::Shard)
}

/// PUBSUB NUMPAT: patterns with at least one subscriber.
fn pubsub_numpat(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.out.int(ctx.srv.pubsub.count(Kind::Pattern) as i64);
    Ok(())
}

fn pubsub_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    super::reply_help(
        ctx.out,
        args.get(0),
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}

/// In RESP2, what a subscribed client may still run (processCommand).
pub fn allowed_while_subscribed(name: &str) -> bool {
    matches!(name, "subscribe" | "ssubscribe" | "unsubscribe" | "sunsubscribe" | "psubscribe" | "punsubscribe" | "ping" | "quit" | "reset")
}

pub fn register(r: &mut Registry) {
    r.add("subscribe", subscribe);
    r.add("psubscribe", psubscribe);
    r.add("ssubscribe", ssubscribe);
    r.add("unsubscribe", unsubscribe);
    r.add("punsubscribe", punsubscribe);
    r.add("sunsubscribe", sunsubscribe);
    r.add("publish", publish);
    r.add("spublish", spublish);
    r.add("pubsub|channels", pubsub_channels);
    r.add("pubsub|shardchannels", pubsub_shardchannels);
    r.add("pubsub|numsub", pubsub_numsub);
    r.add("pubsub|shardnumsub", pubsub_shardnumsub);
    r.add("pubsub|numpat", pubsub_numpat);
    r.add("pubsub|help", pubsub_help);
}
