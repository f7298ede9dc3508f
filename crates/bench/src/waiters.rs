//! Waiter scale: many concurrent waiters over many FlowGen chats share one poll loop per chat.
//!
//! The sandbox runs in a process of its own (`sandbox_process`), so this process's memory and
//! tasks are the client side's alone and the sandbox's share is read apart from `/proc`: once
//! holding the chats before any waiter (the baseline row), and at its peak while serving them.
//!
//! Side by side, at a scale this machine holds for both (1,000 waiters over 10 chats), the
//! baseline is measured, not computed: one poll loop per waiter, each waiter with its own
//! `FlowGen` handle (`FlowGen::new`, so its own loop per chat) over the same connection pool and
//! sandbox. Ours also at 100,000 waiters over 1,000 chats, where reads per chat should not grow.
//! The waiters are futures held by one task (a `FuturesUnordered`, each result dropped as it
//! comes, as a caller handling results would): any further task is the library's.
//!
//! Memory is the waiters' own: this process's resident set while every waiter waits, minus the
//! same just before they started (so the sandbox, the chats and earlier scenarios' peaks are not
//! counted; memory freed earlier and reused can only flatter both sides alike). The process
//! peak is reset (`/proc/self/clear_refs`) before each side, so it is that side's.
//!
//! Goals (issue 16): status reads bounded by chats (at least half the waiters per chat fewer
//! than one loop per waiter, and about as many reads per chat at 100,000 waiters as at 1,000);
//! 100,000 waiters over 1,000 chats in <= 128 MiB, the sandbox's process and ours together.

use std::cell::Cell;
use std::time::{Duration, Instant};

use assistants::{FlowGen, NoInput, Outcome, PollPolicy, Settings};
use assistants_sandbox::DEFAULT_API_KEY;
use flowgen_api::types::ChatStatus;
use futures::{StreamExt, TryStreamExt};

use crate::Size;
use crate::report::{Figure, Scenario};
use crate::sandbox_process::{self, Memory, SandboxProcess};

/// Every loop polls at this fixed pace (1,000 loops: 2,000 reads/s, which this machine serves
/// without the loops falling behind their pace).
const POLL: Duration = Duration::from_millis(500);

/// Chats created, or answered, at once.
const AT_ONCE: usize = 16;

/// What one side of the comparison measured.
struct Side {
    waiters: usize,
    chats: usize,
    reads: f64,
    elapsed: Duration,
    /// Resident MiB this process added while every waiter waited.
    own_mib: f64,
    /// The same once the allocator has handed back what it keeps unused (`malloc_trim`): the
    /// memory the waiters and loops hold, without what earlier bursts left resident.
    live_mib: f64,
    /// This process's peak resident MiB over the side (reset just before it).
    peak_mib: f64,
    /// Tokio tasks alive while every waiter waited, and just before the waiters started.
    tasks: (usize, usize),
    /// The sandbox process holding the side's chats before any waiter, and at its peak after.
    sandbox_before: Memory,
    sandbox_peak: f64,
}

impl Side {
    fn bytes_per_waiter(&self) -> f64 {
        self.own_mib * 1024.0 * 1024.0 / self.waiters as f64
    }

    /// What each waiter beyond `fewer`'s (the same chats, fewer waiters) added: the waiters'
    /// cost without the loops' and connections' (which scale with chats).
    fn marginal_bytes_per_waiter(&self, fewer: &Side) -> f64 {
        (self.own_mib - fewer.own_mib) * 1024.0 * 1024.0 / (self.waiters - fewer.waiters) as f64
    }

    fn reads_per_chat_per_s(&self) -> f64 {
        self.reads / self.chats as f64 / self.elapsed.as_secs_f64()
    }
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Hands memory the allocator keeps but no longer uses back to the system, so that a side's
/// waiters cannot hide in memory an earlier side freed (glibc keeps freed memory resident).
fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas; it takes and returns no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn own_memory() -> anyhow::Result<Memory> {
    sandbox_process::memory("self").ok_or_else(|| anyhow::anyhow!("/proc/self/status is unreadable"))
}

/// `chats` chats, each waiting for human input.
async fn waiting_chats(flowgen: &FlowGen, chats: usize) -> anyhow::Result<Vec<String>> {
    futures::stream::iter(0..chats)
        .map(|i| async move {
            let chat = flowgen.create_chat(&format!("scale {i}"), "flow").await?;
            let outcome = flowgen
                .send_and_wait(&chat.id, "waiting for my approval", NoInput)
                .await?;
            anyhow::ensure!(
                matches!(outcome, Outcome::NeedsInput { .. }),
                "chat {i}: {outcome:?}"
            );
            Ok(chat.id)
        })
        .buffer_unordered(AT_ONCE)
        .try_collect()
        .await
}

/// `chats` chats waiting for input, `per_chat` waiters on each until it completes; after
/// `wait`, every chat is answered. `shared`: every waiter goes through one `FlowGen` (one loop
/// per chat); otherwise each waiter gets its own handle (one loop per waiter).
async fn side((chats, per_chat): (usize, usize), shared: bool, wait: Duration) -> anyhow::Result<Side> {
    // A sandbox process per side: its figures are this side's chats' alone.
    let mut sandbox = SandboxProcess::start()?;
    let sandbox = &mut sandbox;
    let api = &flowgen_api::Client::with_api_key(sandbox.base_url(), DEFAULT_API_KEY.into())?;
    let settings = || Settings::default().with_poll(PollPolicy::fixed(POLL));
    let flowgen = FlowGen::new(api.clone(), settings());
    let ids = waiting_chats(&flowgen, chats).await?;
    let handles: Vec<FlowGen> = if shared {
        vec![flowgen.clone()]
    } else {
        (0..chats * per_chat)
            .map(|_| FlowGen::new(api.clone(), settings()))
            .collect()
    };
    let sandbox_before = sandbox
        .memory()
        .ok_or_else(|| anyhow::anyhow!("the sandbox process's memory is unreadable"))?;
    sandbox_process::reset_peak(&sandbox.pid());
    trim();
    sandbox_process::reset_peak("self");
    let before = own_memory()?;
    let tasks_before = alive_tasks();
    let reads_before = sandbox.requests_for("get_chat")?;
    let started = Instant::now();
    let mut waiters: futures::stream::FuturesUnordered<_> = ids
        .iter()
        .enumerate()
        .flat_map(|(c, id)| {
            let handles = &handles;
            (0..per_chat).map(move |w| {
                let handle = &handles[(c * per_chat + w) % handles.len()];
                handle.wait_until(id, |chat| chat.status == ChatStatus::Completed)
            })
        })
        .collect();
    let (done, failures) = (Cell::new(0usize), Cell::new(0usize));
    let drain = async {
        while let Some(result) = waiters.next().await {
            done.set(done.get() + 1);
            failures.set(failures.get() + usize::from(result.is_err()));
        }
    };
    let answer = async {
        tokio::time::sleep(wait).await;
        let waiting = (own_memory()?, alive_tasks());
        trim();
        let live = own_memory()?;
        anyhow::ensure!(done.get() == 0, "{} waiters ended before the answers", done.get());
        futures::stream::iter(&ids)
            .map(|id| flowgen.send_input(id, "yes"))
            .buffer_unordered(AT_ONCE)
            .try_collect::<Vec<()>>()
            .await?;
        anyhow::Ok((waiting, live))
    };
    let ((), waiting) = tokio::join!(drain, answer);
    let ((waiting, tasks_waiting), live) = waiting?;
    let elapsed = started.elapsed();
    anyhow::ensure!(failures.get() == 0, "{} waiters failed", failures.get());
    anyhow::ensure!(done.get() == chats * per_chat, "{} waiters ended", done.get());
    let reads = sandbox.requests_for("get_chat")? - reads_before;
    let sandbox_peak = sandbox.memory().map_or(f64::NAN, |m| m.peak);
    Ok(Side {
        waiters: chats * per_chat,
        chats,
        reads: reads as f64,
        elapsed,
        own_mib: waiting.rss - before.rss,
        live_mib: live.rss - before.rss,
        peak_mib: own_memory()?.peak,
        tasks: (tasks_waiting, tasks_before),
        sandbox_before,
        sandbox_peak,
    })
}

/// A figure where lower is better; a side that added nothing counts as 0.1, so the ratio
/// stays finite.
fn lower(name: String, ours: f64, baseline: f64, goal: Option<f64>, at_most: Option<f64>) -> Figure {
    Figure {
        name,
        ours,
        baseline,
        ratio: if baseline.is_nan() {
            f64::NAN
        } else {
            baseline / ours.max(0.1)
        },
        goal,
        at_most,
    }
}

/// Runs the scenario.
pub async fn run(size: Size) -> anyhow::Result<Scenario> {
    let small = (size.pick(2, 10), size.pick(10, 100));
    let big = (size.pick(10, 1_000), size.pick(20, 100));
    let one_each = (big.0, 1);
    let wait = Duration::from_millis(size.pick(300, 2_000) as u64);
    let empty = SandboxProcess::start()?.memory().map_or(f64::NAN, |m| m.rss);
    // The chats' own cost (loops, connections) first: one waiter per chat.
    let per_chat = side(one_each, true, wait).await?;
    let ours = side(big, true, wait).await?;
    let ours_small = side(small, true, wait).await?;
    let naive = side(small, false, wait).await?;
    let (n_small, n_big) = (ours_small.waiters, ours.waiters);
    Ok(Scenario {
        name: "waiters".into(),
        description: format!(
            "{n_big} waiters over {} FlowGen chats ({:.1}s), then {n_small} over {} chats side by side with one loop per waiter (a FlowGen handle each), both measured ({:.1}s / {:.1}s); every loop polls every {} ms; the sandbox in a process of its own, a fresh one per side ({empty:.1} MiB resident empty); 'own MiB' = this process's resident set while waiting minus just before; tasks: tokio tasks alive in this process while waiting (one loop per chat or per waiter, plus one per open connection; {} / {} / {} just before the waiters, the loops of the chats' set-up included)",
            ours.chats,
            ours.elapsed.as_secs_f64(),
            ours_small.chats,
            ours_small.elapsed.as_secs_f64(),
            naive.elapsed.as_secs_f64(),
            POLL.as_millis(),
            ours.tasks.1,
            ours_small.tasks.1,
            naive.tasks.1,
        ),
        figures: vec![
            lower(
                format!("status reads, {n_small} waiters (fewer is better)"),
                ours_small.reads,
                naive.reads,
                Some(small.1 as f64 / 2.0),
                None,
            ),
            lower(
                format!("waiters' own MiB, {n_small} waiters"),
                ours_small.own_mib,
                naive.own_mib,
                None,
                None,
            ),
            lower(
                format!("tokio tasks alive while waiting, {n_small} waiters"),
                ours_small.tasks.0 as f64,
                naive.tasks.0 as f64,
                None,
                None,
            ),
            lower(
                format!("status reads per chat per second, {n_big} waiters (baseline: ours at {n_small})"),
                ours.reads_per_chat_per_s(),
                ours_small.reads_per_chat_per_s(),
                // Bounded by chats: a hundred times the waiters, about the same reads per chat.
                Some(0.8),
                None,
            ),
            lower(
                format!(
                    "tokio tasks alive while waiting, {n_big} waiters over {} chats",
                    ours.chats
                ),
                ours.tasks.0 as f64,
                f64::NAN,
                None,
                None,
            ),
            lower(
                format!("waiters' own MiB, {n_big} waiters"),
                ours.own_mib,
                f64::NAN,
                None,
                None,
            ),
            lower(
                format!("waiters' own MiB after malloc_trim, {n_big} waiters"),
                ours.live_mib,
                f64::NAN,
                None,
                None,
            ),
            lower(
                format!(
                    "own MiB after malloc_trim, {} chats with one waiter each",
                    per_chat.chats
                ),
                per_chat.live_mib,
                f64::NAN,
                None,
                None,
            ),
            lower(
                format!(
                    "own MiB, {} chats with one waiter each (loops, connections)",
                    per_chat.chats
                ),
                per_chat.own_mib,
                f64::NAN,
                None,
                None,
            ),
            lower(
                format!("bytes per waiter, {n_big} waiters (baseline: one loop per waiter at {n_small})"),
                ours.bytes_per_waiter(),
                naive.bytes_per_waiter(),
                None,
                None,
            ),
            lower(
                format!(
                    "bytes per waiter beyond one per chat, {n_big} vs {} waiters",
                    per_chat.waiters
                ),
                ours.marginal_bytes_per_waiter(&per_chat),
                f64::NAN,
                None,
                None,
            ),
            lower(
                format!(
                    "sandbox process MiB holding {} chats, no waiter (baseline row)",
                    ours.chats
                ),
                ours.sandbox_before.rss,
                f64::NAN,
                None,
                None,
            ),
            lower(
                format!("sandbox process peak MiB serving {n_big} waiters"),
                ours.sandbox_peak,
                f64::NAN,
                None,
                None,
            ),
            lower(
                format!("client process peak MiB, {n_big} waiters (peak reset before)"),
                ours.peak_mib,
                f64::NAN,
                None,
                None,
            ),
            lower(
                format!("peak MiB, {n_big} waiters: client + sandbox processes"),
                ours.peak_mib + ours.sandbox_peak,
                f64::NAN,
                None,
                Some(128.0),
            ),
        ],
        extra: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    use assistants_sandbox::Sandbox;
    use futures::Stream;

    use super::*;

    /// Counts the bytes this thread allocates while counting is on (every other allocation is
    /// System's, uncounted).
    struct Counting;

    thread_local! {
        static COUNTED: Cell<Option<usize>> = const { Cell::new(None) };
    }

    fn count(bytes: usize) {
        let _ = COUNTED.try_with(|c| {
            if let Some(n) = c.get() {
                c.set(Some(n + bytes));
            }
        });
    }

    // SAFETY: every call is forwarded to System unchanged; counting touches only a
    // thread-local `Cell` without a destructor (no allocation, no re-entry).
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            // SAFETY: the caller's contract, forwarded.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's contract, forwarded.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            // SAFETY: the caller's contract, forwarded.
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count(new_size);
            // SAFETY: the caller's contract, forwarded.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    /// Bytes allocated on this thread by `f`.
    fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
        COUNTED.with(|c| c.set(Some(0)));
        let value = f();
        let bytes = COUNTED.with(|c| c.replace(None)).unwrap_or(0);
        (value, bytes)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_waiter_joining_a_running_loop_allocates_nothing() {
        let sandbox = Sandbox::start().await.unwrap();
        let api = flowgen_api::Client::with_api_key(&sandbox.base_url(), DEFAULT_API_KEY.into()).unwrap();
        let flowgen = FlowGen::new(api, Settings::default().with_poll(PollPolicy::fixed(POLL)));
        let ids = waiting_chats(&flowgen, 1).await.unwrap();
        let id = &ids[0];
        // The chat's loop runs and has published its first read.
        let mut statuses = flowgen.watch(id);
        assert!(statuses.next().await.unwrap().is_ok());
        let waiters: futures::stream::FuturesUnordered<_> = (0..100)
            .map(|_| flowgen.wait_until(id, |chat| chat.status == ChatStatus::Completed))
            .collect();
        let mut waiters = std::pin::pin!(waiters);
        // Each waiter's first poll: it joins the loop and judges the read already published.
        // Polled by hand, so that nothing else (the loop, the sandbox) runs meanwhile.
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let (pending, bytes) = counted(|| (0..10).all(|_| waiters.as_mut().poll_next(&mut cx).is_pending()));
        assert!(pending, "no waiter ends before the chat completes");
        assert_eq!(
            bytes, 0,
            "100 waiters joining a running loop allocated {bytes} bytes (no task, stream, id or chat copy per waiter)"
        );
        drop(statuses);
        for id in &ids {
            flowgen.send_input(id, "yes").await.unwrap();
        }
        let ended: Vec<_> = waiters.collect().await;
        assert!(
            ended
                .iter()
                .all(|r| r.as_ref().is_ok_and(|c| c.status == ChatStatus::Completed))
        );
        sandbox.shutdown().await;
    }
}
