/*
 * agentq's task protocol in Promela, checked exhaustively by spin.
 * docs/model/README.md says what is modelled and what is left out;
 * docs/model/check.sh runs the model and its mutants.
 *
 * Every atomic block is one SQL statement of sql/queries/ (PostgreSQL runs
 * it as one transaction under its row locks) or one git step of the merger
 * (queue/git/merger.cpp). Between any two of them anything else may happen:
 * a lease runs out, the reaper returns the task, another agent claims it, a
 * late request of a stalled or restarted runner arrives with an old token, a
 * server dies between its push and the database write.
 *
 * The guarantees of docs/api.md §4, as assertions:
 *   §4.1 one holder       monitor: at most one open claim per task, and it is
 *                         the one the task row names (invariants_live_claims.sql)
 *   §4.2 fencing          claim: the new token is above every token drawn
 *                         before (unique) and above the task's own tokens
 *   §4.3 stale writes     every holder call that is accepted carries the task's
 *                         current live token: a stale token changes nothing
 *   §4.5 base branch      merger: what is pushed is the approved commit, and no
 *                         commit is pushed twice (also after crash + reconcile);
 *                         monitor: a task is done iff exactly one of its merges
 *                         is recorded, and then its commit is on the base branch
 *                         exactly once (invariants_merges.sql)
 *   §4.6 duties           a reviewer never claims a task it worked on
 *
 * Mutants (spin -DMUTANT_...; each must end in an assertion violation):
 *   MUTANT_SUBMIT_NO_TOKEN   tasks_submit.sql without "t.claim_token = $2"
 *   MUTANT_MERGE_BRANCH_TIP  the merger lands what the submission's branch holds
 *                            now, not the commit recorded with the approval
 *   MUTANT_RECONCILE_BLIND   the merger pushes without first checking whether
 *                            the base branch already has the commit
 *   MUTANT_CLAIM_NO_BUMP     a claim takes currval('fencing_token_seq') instead
 *                            of nextval
 *   MUTANT_RETRY_ANY_TOKEN   a retried submit (store/retried_calls.cpp) is
 *                            answered with success when the caller submitted
 *                            the task before, whatever the token it sends
 *
 * A submit answered 200 always has its submission recorded under the very
 * token it sent: the first time, and when a submit that landed is retried
 * (its answer was lost) and answered the same success (docs/api.md,
 * "Retries"). The short first lease (--first-lease-s) needs nothing here:
 * a lease runs out at any moment in this model already.
 */

#define NA 3          /* agents; each may claim as a worker or as a reviewer */

#ifndef MAXTOK
#define MAXTOK 6      /* claims handed out in all: bounds the state space */
#endif
#ifndef MAX_ROUNDS
#define MAX_ROUNDS 2  /* max_review_rounds: a first reject sends the task back
                         to the workers, a second one to needs_human */
#endif

/* A commit is named by the claim whose branch agentq/<task>/<token> it was
   pushed to, and its version there: 1 is what the worker pushed and
   submitted, 2 a later push to the same branch. */
#define COMMIT(tok, ver) (2 * (tok) + (ver) - 1)
#define NC (2 * (MAXTOK + 1))

mtype = { QUEUED, WORKING, AWAIT, REVIEWING, DONE, NEEDS_HUMAN };

#define M_NONE     0
#define M_PENDING  1
#define M_MERGED   2
#define M_CONFLICT 3

#define NOBODY 255

/* ---- tasks (sql/migrations: the tasks table), two of them */
mtype state[2] = QUEUED;
byte  claim_token[2];    /* 0: null */
byte  claim_agent[2] = NOBODY; /* claim_agent_id; NOBODY: null */
bit   lease_live[2];     /* lease_expires_at > now() */
bit   lease_inf[2];      /* lease_expires_at = 'infinity': approved, merging */
byte  review_round[2];
byte  worked[2];         /* bit a: agent a has held a worker claim on the task */

/* ---- submissions: only the latest one of a task is ever read */
byte  sub_tok[2];        /* the claim that submitted; 0: none */
byte  sub_by[2];         /* the agent that submitted it (for a retry's check) */
bit   branch_moved[2];   /* its branch was pushed again after the submit */

/* ---- merges: one row per task is pending or merged at a time (a conflict
        lets a later approval add the next) */
byte  merge_status[2];
byte  merge_tok[2];      /* the submission it merges; merges.commit is
                            COMMIT(merge_tok, 1) */
byte  merged_count[2];   /* the task's merges with status 'merged' */

/* ---- claims: open = ended_at is null */
bit   claim_open[MAXTOK + 1];
byte  open_claims[2];

byte  token_seq;         /* fencing_token_seq */
byte  handed_out;        /* scratch: token_seq before a claim draws (always 0 between steps) */

/* ---- git: the base branch of the one repository */
byte  landed[NC];        /* times commit c was pushed onto the base branch */
bit   merge_locked;      /* pg_advisory_xact_lock(7420002, repo) is held */

/* ------------------------------------------------------------------ claims */

/* sql/queries/tasks_claim_worker.sql: queued_candidates (dependencies and
   run_after abstracted) or expired_candidates (attempt budget abstracted). */
#define W_CLAIMABLE(x) (token_seq < MAXTOK && \
  (state[x] == QUEUED || (state[x] == WORKING && !lease_live[x])))

/* sql/queries/tasks_claim_reviewer.sql: waiting_candidates or
   expired_candidates, never a task this agent worked on (§4.6). */
#define R_CLAIMABLE(x, me) (token_seq < MAXTOK && \
  (state[x] == AWAIT || (state[x] == REVIEWING && !lease_live[x] && !lease_inf[x])) && \
  (worked[x] & (1 << (me))) == 0)

/* A claims row ends (ended_at = now()); only an open one counts. */
inline close_claim(x, k) {
  if
  :: k != 0 && claim_open[k] -> claim_open[k] = 0; open_claims[x]--
  :: k == 0 || !claim_open[k] -> skip
  fi
}

/* The claimed CTE: claim_token = nextval('fencing_token_seq'), drawn while
   the claim holds the task's row lock (FOR UPDATE ... SKIP LOCKED, to the
   commit). One atomic step: it touches only its task's row and the sequence,
   so it commutes with claims of other tasks except in which token each
   draws, and no guarantee compares tokens of different tasks (docs/api.md
   §4.2; claims of different tasks may commit out of draw order, which this
   step does not show and nothing depends on). The expired_claims CTE closes
   the claim it takes over; new_claims inserts the new one. */
inline draw_token(x, me, tok) {
  assert(claim_token[x] == 0 || !lease_live[x]);   /* §4.1: nobody holds it */
  handed_out = token_seq;                           /* no token drawn so far is above this */
#ifdef MUTANT_CLAIM_NO_BUMP
  if :: token_seq == 0 -> token_seq = 1 :: token_seq != 0 -> skip fi;
  tok = token_seq;                                  /* currval */
#else
  token_seq++;
  tok = token_seq;                                  /* nextval */
#endif
  assert(tok > handed_out);                         /* §4.2: nextval, unique */
  assert(tok > claim_token[x]);                     /* the task's tokens increase */
  handed_out = 0;
#ifdef REACH_TAKEOVER
  assert(claim_token[x] == 0);                      /* witness: an expired claim taken over */
#endif
  close_claim(x, claim_token[x]);
  claim_token[x] = tok;
  claim_agent[x] = me;
  lease_live[x] = 1;
  claim_open[tok] = 1;
  open_claims[x]++
}

/* ------------------------------------------------------- a holder's calls */

/* The guard of every holder statement: t.claim_token = $2 and
   t.claim_agent_id = $3 and t.lease_expires_at > now() (and, but for the
   heartbeat's no-op on a merge, < 'infinity'). */
#define HOLDS(x, tok, me) \
  (claim_token[x] == (tok) && claim_agent[x] == (me) && lease_live[x] && !lease_inf[x])

/* §4.3: a call that changes a task carries its current live token. */
#define FENCED(x, tok) assert((tok) != 0 && claim_token[x] == (tok) && lease_live[x] && !lease_inf[x])

/* sql/queries/tasks_heartbeat.sql (store::heartbeat). Extending a live lease
   changes nothing in this abstraction (it may still run out at any moment);
   what matters is the answer: on a refusal the runner kills the agent's
   command and pushes nothing (docs/api.md §6). */
inline heartbeat(x, tok, me, ok) {
  atomic {
    if
    :: HOLDS(x, tok, me) -> FENCED(x, tok); ok = 1
    :: !HOLDS(x, tok, me) -> ok = 0                 /* 409 */
    fi
  }
}

/* POST /v1/tasks/{id}/submit (queue/http/handler.cpp) and
   sql/queries/tasks_submit.sql. The worker pushed agentq/<x>/<tok> just
   before (its push is seen by nobody but the merger, through the
   submission, so it is folded into this step); the handler's check that the
   commit is that branch's tip therefore passes. */
#ifdef MUTANT_SUBMIT_NO_TOKEN
#define SUBMIT_GUARD(x, tok, me) \
  (state[x] == WORKING && claim_agent[x] == (me) && lease_live[x] && !lease_inf[x])
#else
#define SUBMIT_GUARD(x, tok, me) (state[x] == WORKING && HOLDS(x, tok, me))
#endif
/* A refused submit whose token already submitted, by this caller, is a
   retry of a call that landed: claims_landed_call.sql finds its event and
   the answer is the same success, nothing written. */
#ifdef MUTANT_RETRY_ANY_TOKEN
#define LANDED(x, tok, me) (sub_tok[x] != 0 && sub_by[x] == (me))
#else
#define LANDED(x, tok, me) (sub_tok[x] == (tok) && (tok) != 0 && sub_by[x] == (me))
#endif
inline submit(x, tok, me, ok) {
  atomic {
    if
    :: SUBMIT_GUARD(x, tok, me) ->
       FENCED(x, tok);
       state[x] = AWAIT;
       close_claim(x, tok);                         /* claim_row: c.token = $2 */
       claim_token[x] = 0; claim_agent[x] = NOBODY; lease_live[x] = 0;
       sub_tok[x] = tok; sub_by[x] = me; branch_moved[x] = 0;  /* the submission CTE */
       ok = 1
    :: !SUBMIT_GUARD(x, tok, me) && LANDED(x, tok, me) ->
       ok = 1                                       /* 200: the retry of a landed submit */
    :: !SUBMIT_GUARD(x, tok, me) && !LANDED(x, tok, me) ->  /* 409 */
       ok = 0;
#ifdef REACH_STALE_SUBMIT
       /* witness: refused, though the caller holds the task under a newer token */
       assert(!(state[x] == WORKING && HOLDS(x, claim_token[x], me) && tok != claim_token[x]));
#endif
       skip
    fi;
    /* What the runner trusts: a 200 means its work is recorded under this token. */
    assert(!ok || sub_tok[x] == tok)
  }
}

/* sql/queries/tasks_release.sql: a worker asks for a retry (queued; backoff
   abstracted), a reviewer hands the review back (awaiting_review). */
#define RELEASABLE(x, tok, me) ((state[x] == WORKING || state[x] == REVIEWING) && HOLDS(x, tok, me))
inline release(x, tok, me) {
  atomic {
    if
    :: RELEASABLE(x, tok, me) ->
       FENCED(x, tok);
       state[x] = (state[x] == WORKING -> QUEUED : AWAIT);
       close_claim(x, tok);
       claim_token[x] = 0; claim_agent[x] = NOBODY; lease_live[x] = 0
    :: !RELEASABLE(x, tok, me) -> skip              /* 409 */
    fi
  }
}

/* sql/queries/tasks_approve.sql (store::approve): records a pending merge of
   the latest submission and holds the lease open ('infinity'); the
   reviewer's server then calls merger::land(), which is the merger process
   below. A retried approval finds its merge (merges_get_for_token.sql) and
   changes nothing, like a refusal. */
#define REVIEWABLE(x, tok, me) (state[x] == REVIEWING && HOLDS(x, tok, me))
inline approve(x, tok, me) {
  atomic {
    if
    :: REVIEWABLE(x, tok, me) ->
       FENCED(x, tok);
       lease_inf[x] = 1;
       merge_status[x] = M_PENDING;                 /* the merge CTE */
       merge_tok[x] = sub_tok[x]
    :: !REVIEWABLE(x, tok, me) -> skip              /* 409 */
    fi
  }
}

/* sql/queries/tasks_reject.sql: back to queued with a review round used, or
   to needs_human when none is left (feedback and disagreement rows are not
   modelled). */
inline reject(x, tok, me) {
  atomic {
    if
    :: REVIEWABLE(x, tok, me) ->
       FENCED(x, tok);
       review_round[x]++;
       state[x] = (review_round[x] >= MAX_ROUNDS -> NEEDS_HUMAN : QUEUED);
#ifdef REACH_REJECT_BACK
       assert(state[x] != QUEUED);                  /* witness: rejected with rounds left */
#endif
#ifdef REACH_NEEDS_HUMAN
       assert(state[x] != NEEDS_HUMAN);             /* witness: rejected, no round left */
#endif
       close_claim(x, tok);
       claim_token[x] = 0; claim_agent[x] = NOBODY; lease_live[x] = 0
    :: !REVIEWABLE(x, tok, me) -> skip              /* 409 */
    fi
  }
}

/* ------------------------------------------------------------------ agents */

/* The agents: agentq-worker and agentq-reviewer (worker/, reviewer/,
   runner/) as the server sees them. They keep no state of their own here:
   at any moment any of the three agents may claim (as a worker or as a
   reviewer), and the agent holding a task may send any holder call on it,
   with the task's current token or a stale one. That covers the live
   holder's calls, a holder that stalled past its lease and comes back, a
   runner that died with a request in flight and was restarted under the
   same name, and retries -- and any other order of calls, so the guarantees
   do not rest on the runners behaving.
   Which calls are tried: a call from an agent that does not hold the task
   is refused by "t.claim_agent_id = $3" whatever its token (every variant
   keeps that check), so calls go to a held task in its holder's name; and
   the statements compare tokens only for equality, so one token that is
   not the task's current one (the newest such) stands for all of them.
   A worker may also push its own branch again after it submitted (the
   branch is its own; only the base branch is fenced); only the merger reads
   it, so that is explored where it matters, in MUTANT_MERGE_BRANCH_TIP. */
#define STALE(x) (claim_token[x] == token_seq -> token_seq - 1 : token_seq)
#define R_PICK(x, b) :: R_CLAIMABLE(x, b) -> t = x; a = b
active proctype agents() {
  byte a, t, k;
  bit ok;
end:
  do
  :: atomic { W_CLAIMABLE(0) || W_CLAIMABLE(1) ->   /* store::claim, worker */
       if
       :: W_CLAIMABLE(0) -> t = 0
       :: W_CLAIMABLE(1) -> t = 1
       fi;
       if :: a = 0 :: a = 1 :: a = 2 fi;
       draw_token(t, a, k);
       state[t] = WORKING;
       worked[t] = worked[t] | (1 << a);
       a = 0; t = 0; k = 0 }
  :: atomic { R_CLAIMABLE(0, 0) || R_CLAIMABLE(0, 1) || R_CLAIMABLE(0, 2) ||
              R_CLAIMABLE(1, 0) || R_CLAIMABLE(1, 1) || R_CLAIMABLE(1, 2) ->
       /* store::claim, reviewer */
       if R_PICK(0, 0) R_PICK(0, 1) R_PICK(0, 2) R_PICK(1, 0) R_PICK(1, 1) R_PICK(1, 2) fi;
       assert((worked[t] & (1 << a)) == 0);         /* §4.6 */
       draw_token(t, a, k);
       state[t] = REVIEWING;
       a = 0; t = 0; k = 0 }
  :: atomic { claim_token[0] != 0 || claim_token[1] != 0 ->  /* a holder's call */
       if
       :: claim_token[0] != 0 -> t = 0
       :: claim_token[1] != 0 -> t = 1
       fi;
       a = claim_agent[t];
       if
       :: k = claim_token[t]                        /* the holder's current token */
       :: token_seq > 1 -> k = STALE(t)             /* an older one */
       fi;
       if
       :: heartbeat(t, k, a, ok)
       :: submit(t, k, a, ok)
       :: release(t, k, a)
       :: approve(t, k, a)
       :: reject(t, k, a)
       fi;
       a = 0; t = 0; k = 0; ok = 0 }
  /* A worker whose submit's answer was lost sends it again (to any
     server), at any later moment: the same token, in its own name. */
  :: atomic { sub_tok[0] != 0 -> submit(0, sub_tok[0], sub_by[0], ok); assert(ok); ok = 0 }
  :: atomic { sub_tok[1] != 0 -> submit(1, sub_tok[1], sub_by[1], ok); assert(ok); ok = 0 }
#ifdef MUTANT_MERGE_BRANCH_TIP
  :: atomic { sub_tok[0] != 0 && !branch_moved[0] -> branch_moved[0] = 1 }
  :: atomic { sub_tok[1] != 0 && !branch_moved[1] -> branch_moved[1] = 1 }
#endif
  od
}

/* ------------------------------------------------------- time and reaper */

/* A lease runs out at any moment (a stalled holder, a slow agent). An
   approved task's lease is 'infinity' and never runs out. */
#define EXPIRABLE(x) ((state[x] == WORKING || state[x] == REVIEWING) && lease_live[x] && !lease_inf[x])
#define REAPABLE(x)  ((state[x] == WORKING || state[x] == REVIEWING) && !lease_live[x] && !lease_inf[x])

/* queue/services/reaper.cpp, sql/queries/tasks_reap_expired.sql: a task
   whose lease ran out goes back to queued (worker) or awaiting_review
   (reviewer) and its claim ends as expired. (The attempt budget, and with it
   'failed', is abstracted away.) */
inline reap(x) {
  state[x] = (state[x] == REVIEWING -> AWAIT : QUEUED);
  close_claim(x, claim_token[x]);
  claim_token[x] = 0; claim_agent[x] = NOBODY
}

active proctype clock_and_reaper() {
end:
  do
  :: atomic { EXPIRABLE(0) -> lease_live[0] = 0 }
  :: atomic { EXPIRABLE(1) -> lease_live[1] = 0 }
  :: atomic { REAPABLE(0) -> reap(0) }
  :: atomic { REAPABLE(1) -> reap(1) }
  od
}

/* ------------------------------------------------------------------ merger */

/* sql/queries/merges_finish_merged.sql: only a pending merge finishes, and
   only for a task that is reviewing or needs_human. */
#define FINISHABLE(x) (merge_status[x] == M_PENDING && (state[x] == REVIEWING || state[x] == NEEDS_HUMAN))
inline finish_merged(x) {
  atomic {
    if
    :: FINISHABLE(x) ->
       merge_status[x] = M_MERGED;
       merged_count[x]++;
       state[x] = DONE;
       close_claim(x, claim_token[x]);
       claim_token[x] = 0; claim_agent[x] = NOBODY; lease_live[x] = 0; lease_inf[x] = 0
    :: !FINISHABLE(x) -> skip                       /* recorded meanwhile */
    fi
  }
}

/* sql/queries/merges_finish_conflict.sql: back to queued with the conflict
   as feedback; nothing landed. */
inline finish_conflict(x) {
  atomic {
    if
    :: FINISHABLE(x) ->
       merge_status[x] = M_CONFLICT;
       state[x] = QUEUED;
       close_claim(x, claim_token[x]);
       claim_token[x] = 0; claim_agent[x] = NOBODY; lease_live[x] = 0; lease_inf[x] = 0
    :: !FINISHABLE(x) -> skip
    fi
  }
}

/* What land_locked() merges: job.commit, the commit recorded with the
   approval (merges_get.sql), not whatever the submission's branch holds. */
#define APPROVED(x) COMMIT(merge_tok[x], 1)
#ifdef MUTANT_MERGE_BRANCH_TIP
#define MERGE_SOURCE(x) COMMIT(merge_tok[x], (branch_moved[x] -> 2 : 1))
#else
#define MERGE_SOURCE(x) APPROVED(x)
#endif
#ifdef MUTANT_RECONCILE_BLIND
#define ON_BASE(c) false
#else
#define ON_BASE(c) (landed[c] > 0)
#endif

/* queue/git/merger.cpp: merger::land(), called by the approving request's
   server (handler.cpp land()) or by merger::run_once() of any server for a
   pending merge (merges_list_pending.sql). Every server's land() runs under
   one lock, so one process stands for all of them; it may die between the
   push and the database write, and then starts over (PostgreSQL released
   the lock with the dead connection). */
active proctype merger() {
  byte x, c;
top:
  atomic { x = 0; c = 0 }
end_wait:
  atomic {
    /* db.get_merge(), repos_merge_lock.sql, then get_merge() again under
       the lock: a merge someone else recorded meanwhile is not touched */
    !merge_locked && (merge_status[0] == M_PENDING || merge_status[1] == M_PENDING) ->
    if
    :: merge_status[0] == M_PENDING -> x = 0
    :: merge_status[1] == M_PENDING -> x = 1
    fi;
    merge_locked = 1;
    /* land_locked(): fetch the base branch and the submission's branch */
    c = MERGE_SOURCE(x)
  }
  if
  :: ON_BASE(c) ->
     /* contains(base_tip, job.commit): an earlier land() pushed it and died
        before recording it. Record it, "reconciled"; push nothing. */
#ifdef REACH_RECONCILE
     assert(false);                                 /* witness: crash, then reconcile */
#endif
     finish_merged(x)
  :: !ON_BASE(c) ->
     if
     :: finish_conflict(x)                          /* merge() found conflicts */
     :: atomic {                                    /* push_branch(), no force */
          assert(c == APPROVED(x));                 /* §4.5: only the approved commit */
          assert(landed[c] == 0);                   /* §4.5: never twice */
          landed[c]++
        };
        if
        :: true                                     /* fault_point("merger.after_push"):
                                                       the server dies here; the merge
                                                       stays pending */
        :: finish_merged(x)
        fi
     fi
  fi;
  merge_locked = 0;
  goto top
}

/* ------------------------------------------------------------------ a person */

/* POST /v1/tasks/{id}/approve, sql/queries/tasks_override_approve.sql: a
   person approves the latest submission of a needs_human task when no merge
   is pending and that submission was never merged; the merger lands it like
   any approval. (A person's requeue and cancel are not modelled.) */
#define OVERRIDABLE(x) (state[x] == NEEDS_HUMAN && merge_status[x] != M_PENDING && \
                        !(merge_status[x] != M_NONE && merge_tok[x] == sub_tok[x]))
active proctype person() {
end:
  do
  :: atomic { OVERRIDABLE(0) -> merge_status[0] = M_PENDING; merge_tok[0] = sub_tok[0] }
  :: atomic { OVERRIDABLE(1) -> merge_status[1] = M_PENDING; merge_tok[1] = sub_tok[1] }
  od
}

/* ------------------------------------------------------------ invariants */

/* sql/queries/invariants_live_claims.sql (§4.1) and invariants_merges.sql
   (§4.5), in every reachable state. */
#define TASK_OK(x) ( \
  open_claims[x] <= 1 && \
  ((claim_token[x] != 0) == (open_claims[x] == 1)) && \
  (claim_token[x] == 0 || claim_open[claim_token[x]]) && \
  merged_count[x] <= 1 && \
  ((state[x] == DONE) == (merged_count[x] == 1)) && \
  (state[x] != DONE || landed[APPROVED(x)] == 1))

active proctype monitor() {
end:
  atomic { !(TASK_OK(0) && TASK_OK(1)) -> assert(false) }
}

/* Witnesses (spin -DREACH_...): each must fail, which shows the run above
   does reach that situation and its assertions are not checked in vain. */
#ifdef REACH_BOTH_DONE
active proctype witness() {
end:
  atomic { state[0] == DONE && state[1] == DONE -> assert(false) }
}
#endif
#ifdef REACH_OVERRIDE_DONE
active proctype witness() {
end:
  atomic { (state[0] == DONE && review_round[0] >= MAX_ROUNDS) ||
           (state[1] == DONE && review_round[1] >= MAX_ROUNDS) -> assert(false) }
}
#endif

/* ------------------------------------------------------------ progress */

/* spin -DPROGRESS, pan -a -f (weak fairness), at a smaller MAXTOK: once a
   merge is pending it is recorded (merged or conflict), also after a server
   died between its push and the record -- the reconcile never pushes, so it
   cannot die in that spot again, and the dead server's lock is released.
   Without fairness spin finds the obvious starvation of the merger, which
   check.sh also requires (the property is not vacuous). */
#ifdef PROGRESS
ltl merges_finish { [] ((merge_status[0] == M_PENDING -> <> (merge_status[0] != M_PENDING)) &&
                        (merge_status[1] == M_PENDING -> <> (merge_status[1] != M_PENDING))) }
#endif
