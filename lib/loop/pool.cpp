// SPDX-License-Identifier: MIT
#include "loop/pool.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "core/error.h"
#include "loop/loop.h"

namespace fdk {
namespace {

// Workers at most, unless UV_THREADPOOL_SIZE says otherwise (as for libuv's pool, which this
// one replaces for fdkit's calls). Started one at a time, when a job finds no worker free.
constexpr int kDefaultWorkers = 4;
constexpr int kMostWorkers = 1024;
// Without UV_THREADPOOL_SIZE, only one worker more than the process has CPUs takes jobs
// while jobs keep moving (eager_workers): many more add no speed to warm calls, only take
// CPU time from the loop thread that feeds them (the scheduler shares a CPU among runnable
// threads) and contend on the kernel's locks (a directory's for mkdir, a file's for
// writes). The others take jobs once none has started or finished for this long (the
// running ones wait for a disk or a remote file system), which one of them checks this
// often while jobs wait.
constexpr auto kStalled = std::chrono::milliseconds(1);
// A worker most of whose recent jobs, timed while all the eager workers were busy, took this
// long runs under the default scheduling policy rather than SCHED_BATCH (see worker_main).
constexpr auto kLongJob = std::chrono::microseconds(50);
// How long a worker that finished a job looks for the next one before it sleeps, and a loop
// with jobs in flight for a finished one before it blocks. Long enough to cover the loop's
// turn (callback, next call) and a warm metadata call (stat 1.5 µs, mkdir or a small readdir
// 5-10 µs here); as long as the 10-15 µs a wake-up costs, twice per round trip, at most.
constexpr auto kLookFor = std::chrono::microseconds(30);
// The most one loop iteration spends collecting jobs as they finish before it lets its
// other handles (timers, descriptors) have their turn.
constexpr auto kLoopTurn = std::chrono::microseconds(250);
// The most calls a loop may have in flight on the pool for it to watch for their results:
// chained calls (each started from the previous one's callback), one or two at a time.
constexpr int kWatchInFlight = 2;
// The fewest jobs a loop must have in flight for it to let results gather while it blocks
// (pool_wait_timeout): with fewer, each result is awaited by the next call, or the workers
// are not all busy, and a wake-up per result costs the loop nothing it could save.
constexpr int kGatherInFlight = 8;
// The longest a loop that lets results gather blocks, in ms (its wait's unit): the bound on
// how long a result waits for the loop when the jobs after it are slow.
constexpr int kGatherMs = 1;

using Clock = std::chrono::steady_clock;

// One step of a bounded wait on another CPU's store. Not sched_yield: a thread that yields
// again and again has its deadline pushed back a time slice per call by the kernel's EEVDF
// scheduler, and then waits milliseconds behind the other processes of a loaded machine.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Waits up to kLookFor for ready() to hold, on the CPU (reading the clock only every few
// rounds: it is a paravirtual clock here, dearer than the check): true once it holds.
template <class Ready>
bool wait_briefly(Ready ready) {
  auto until = Clock::now() + kLookFor;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (Clock::now() >= until) return ready();
  }
}

// Takes mu, trying on the CPU for a moment first (64 rounds, about 2 µs): it is held for a
// few instructions at a time, and a worker that blocks on it while the loop queues a job (or
// the loop while a worker takes one) pays a futex sleep and a wake-up, tens of µs here.
std::unique_lock<std::mutex> lock_soon(std::mutex &mu) {
  std::unique_lock<std::mutex> lock(mu, std::try_to_lock);
  for (int i = 0; i < 64 && !lock.owns_lock(); ++i) {
    cpu_relax();
    lock.try_lock();
  }
  if (!lock.owns_lock()) lock.lock();
  return lock;
}

// A worker thread. It sleeps on its own semaphore, so that a wake-up reaches exactly the
// worker it was meant for: with one condition variable for all, glibc made the loop thread
// that signalled it wait, at 64 calls in flight, for the workers woken before to leave
// it (a futex wait of the loop thread on a worker's turn on a CPU, seen in perf trace).
struct Worker {
  sem_t wake;
  Worker *next_idle = nullptr;  // the pool's stack of sleeping workers (its lock)
  // The worker's own: when its job started (0: not timed), and which of its last 8 timed
  // jobs took kLongJob or more, one bit each (see worker_main).
  Clock::rep job_start = 0;
  unsigned long_jobs = 0;
  bool batch = false;
  bool policy_fixed = false;  // the system refused a change of policy: none is tried again
  int policy = SCHED_OTHER;   // the one the thread started with
  sched_param param{};
};

struct Pool {
  std::mutex mu;
  PoolJob *head = nullptr, *tail = nullptr;  // the queue, oldest first (mu)
  std::atomic<int> queued{0};                // its length, read without mu by looking workers
  std::atomic<int> looking{0};               // workers looking for a job without sleeping (0 or 1)
  std::atomic<int> running{0};               // workers running a job
  std::atomic<int> skip_look{0};             // finished jobs left before a worker looks again
  unsigned look_misses = 0;                  // (the looking worker)
  std::atomic<Clock::rep> last_progress{0};  // when a worker last started or finished a job (see note_progress)
  Worker *idle = nullptr;                    // sleeping workers, the latest asleep first (mu)
  Worker *standby = nullptr;                 // a worker asleep with a timeout while jobs wait (mu)
  int woken = 0;                             // workers woken for a job and not yet back to the queue (mu)
  int awake = 0;                             // workers neither in `idle` nor on standby (mu)
  int threads = 0;                           // (mu)
  int most = 0;                              // workers at most, read on first use (mu)
  int eager = 0;                             // workers that take jobs while jobs keep moving (mu)
  std::vector<pthread_t> ids;                // (mu)
  std::atomic<bool> stopping{false};         // the library is unloading or the process exits (mu to set)

  ~Pool();
};

// Static storage, so that the destructor joins the workers when the library is unloaded
// (they run its code) or the process exits.
Pool g_pool;
std::once_flag g_atfork_once;

// A forked child has none of the parent's workers and must not wait for its lock: the pool
// starts afresh there. The parent's jobs belong to the parent's loops, which the child cannot
// use (their calls answer -ECHILD).
void reset_in_child() { new (&g_pool) Pool; }

int most_workers() {
  const char *env = getenv("UV_THREADPOOL_SIZE");
  int n = env ? atoi(env) : kDefaultWorkers;
  return std::clamp(n, 1, kMostWorkers);
}

// All the workers when UV_THREADPOOL_SIZE sets their number, else one per CPU the process
// may run on and one more, keeping one of the workers back (see kStalled) where there are
// fewer CPUs than workers. The one more because the loop thread takes part of a CPU and a
// worker that sleeps or waits for a CPU leaves its own idle: with one per CPU, at 64 stats
// in flight on 2 CPUs, the second CPU idled 40% of the run (perf sched timehist) while the
// loop and two workers shared the first; with one more, 15% more stats per second.
int eager_workers(int most) {
  cpu_set_t cpus;
  if (getenv("UV_THREADPOOL_SIZE") || sched_getaffinity(0, sizeof cpus, &cpus) < 0) return most;
  int n = CPU_COUNT(&cpus);
  return n < most ? std::min(n + 1, most - 1) : most;
}

// Only while the eager workers are all running jobs (the clock costs a lone call time),
// which the job that made them all busy notes first. `eager` is set before any worker starts.
// The time noted, or 0.
Clock::rep note_progress(Pool &p) {
  if (p.running.load(std::memory_order_relaxed) < p.eager) return 0;
  Clock::rep now = Clock::now().time_since_epoch().count();
  p.last_progress.store(now, std::memory_order_relaxed);
  return now;
}

// Whether the eager workers are all in jobs and none started or finished for kStalled.
bool stalled(const Pool &p) {
  if (p.running.load(std::memory_order_relaxed) < p.eager) return false;
  Clock::time_point last{Clock::duration(p.last_progress.load(std::memory_order_relaxed))};
  return Clock::now() - last >= kStalled;
}

PoolJob *pop_locked(Pool &p) {
  PoolJob *job = p.head;
  p.head = job->next_;
  if (p.head) p.head->prev_ = nullptr;
  else p.tail = nullptr;
  job->next_ = nullptr;
  job->queued_ = false;
  p.queued.fetch_sub(1, std::memory_order_relaxed);
  return job;
}

void unlink_locked(Pool &p, PoolJob *job) {
  if (job->prev_) job->prev_->next_ = job->next_;
  else p.head = job->next_;
  if (job->next_) job->next_->prev_ = job->prev_;
  else p.tail = job->prev_;
  job->prev_ = job->next_ = nullptr;
  job->queued_ = false;
  p.queued.fetch_sub(1, std::memory_order_relaxed);
}

// Hands a finished job back to its loop: onto the loop's list, and a wake-up only when the
// list was empty and the loop is not watching it. True when the loop was watching for it
// with nothing else to collect: it takes the result at once and may send the next job soon.
bool hand_back(PoolJob *job);

void *worker_main(void *arg);

// Starts one more worker, with every signal blocked: a process-directed signal must reach
// the threads that expect it (a host's sigwait, libuv's signal handling), never a worker.
// Its Worker lives as long as the thread, which frees it on its way out.
void start_worker_locked(Pool &p) {
  auto *worker = new (std::nothrow) Worker;
  if (!worker) return;
  sem_init(&worker->wake, 0, 0);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t id;
  if (pthread_create(&id, nullptr, worker_main, worker) == 0) {
    p.ids.push_back(id);
    ++p.threads;
    ++p.awake;
  } else {
    sem_destroy(&worker->wake);
    delete worker;
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

// Whether the wake-ups under way leave no room for another. One at a time kept the second
// CPU idle at 64 calls in flight: the woken worker waited on the run queue of the busy CPU
// that woke it (wake-ups land on the waker's or the wakee's last CPU once the process keeps
// the CPUs busy), for 50-70 µs each round, while no other wake-up could start and the
// other CPU idled (perf sched timehist: CPU 1 idle 54% of the run).
bool wake_under_way_locked(const Pool &p) { return p.woken >= p.eager; }

// Another worker for the jobs queued beyond what looking workers take: a sleeping one, taken
// off the stack (its semaphore to post once mu is released), else a new thread if the pool
// may grow (null then). At most one wake-up per eager worker is under way at a time (see
// wake_under_way_locked): a woken worker, once it has taken a job, wakes the next if jobs
// are left. So a loop that sends a burst of calls pays a wake-up system call per eager
// worker, not one per call, and when the loop is the bottleneck (fast calls at many in flight) workers
// that keep up are not woken one by one per call.
// With the eager workers all awake and jobs moving, the worker woken (or started) is one to
// stand by, and only if none does (see take). A sleeping worker is woken before the one on
// standby, which then stays there: taken first, it left the standby place empty, and the
// next call queued woke another worker to fill it (at 64 stats in flight, 4900 wake-ups
// per 200 000 calls, 3250 of them of the worker standing by; about 7% more calls a second
// once it stays).
Worker *more_hands_locked(Pool &p) {
  if (p.queued.load(std::memory_order_seq_cst) <= p.looking.load(std::memory_order_seq_cst)) return nullptr;
  bool room = p.awake < p.eager || stalled(p);
  if (!room && p.standby) return nullptr;
  Worker *w = p.idle;
  if (w) p.idle = w->next_idle;
  else if (room) w = std::exchange(p.standby, nullptr);
  if (w) {
    ++p.woken;
    ++p.awake;
  } else if (p.threads < p.most) {
    start_worker_locked(p);
  }
  return w;
}

// Sleeps until posted, or (timed) for at most kStalled: true when posted.
bool sleep_worker(Worker &self, bool timed) {
  if (!timed) {
    while (sem_wait(&self.wake) < 0 && errno == EINTR) {
    }
    return true;
  }
  timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_nsec += std::chrono::nanoseconds(kStalled).count();
  until.tv_sec += until.tv_nsec / 1000000000;
  until.tv_nsec %= 1000000000;
  int r;
  while ((r = sem_clockwait(&self.wake, CLOCK_MONOTONIC, &until)) < 0 && errno == EINTR) {
  }
  return r == 0;
}

// The next job, or null when the pool stops. expect_more: the worker finished the only job
// that was running and handed it to a loop that was watching for it, so a loop that chains
// its calls is about to send the next one.
PoolJob *take(Pool &p, Worker &self, bool expect_more) {
  // One worker looks at a time, and only then: with other jobs running, or a loop busy with
  // other results, the loop is the bottleneck and a looking worker would take the CPU it
  // needs. After looks that found nothing (slow jobs: uncached data, a remote file system),
  // only every 2^n-th chance to look is taken, as the loop does (loop/backoff.h; here shared
  // by the workers, so atomic).
  int none = 0;
  if (expect_more && p.skip_look.load(std::memory_order_relaxed) > 0) {
    p.skip_look.fetch_sub(1, std::memory_order_relaxed);
  } else if (expect_more && p.looking.compare_exchange_strong(none, 1, std::memory_order_seq_cst)) {
    if (wait_briefly([&p] {
          return p.queued.load(std::memory_order_seq_cst) > 0 || p.stopping.load(std::memory_order_relaxed);
        })) {
      p.look_misses = 0;
    } else {
      p.skip_look.store((1 << std::min(p.look_misses, Backoff::kMaxShift)) - 1, std::memory_order_relaxed);
      ++p.look_misses;
    }
    p.looking.fetch_sub(1, std::memory_order_seq_cst);
  }
  std::unique_lock<std::mutex> lock = lock_soon(p.mu);
  // A worker beyond the eager ones takes a job only while the running ones are stalled.
  while (!p.stopping.load(std::memory_order_relaxed) && (!p.head || (p.awake > p.eager && !stalled(p)))) {
    // On standby (waking every kStalled to check) while jobs wait and no other worker stands
    // by, else on the stack until posted.
    bool stand_by = p.head && !p.standby;
    if (stand_by) {
      p.standby = &self;
    } else {
      self.next_idle = p.idle;
      p.idle = &self;
    }
    --p.awake;
    lock.unlock();
    bool posted = sleep_worker(self, stand_by);
    lock = lock_soon(p.mu);
    if (!posted && p.standby == &self) {
      p.standby = nullptr;
      ++p.awake;
      continue;
    }
    if (!posted) {
      // Taken off standby as the wait ran out: the post is on its way.
      lock.unlock();
      sleep_worker(self, false);
      lock = lock_soon(p.mu);
    }
    --p.woken;  // whoever posted the semaphore took this worker off the stack and counted it
  }
  if (p.stopping.load(std::memory_order_relaxed)) return nullptr;
  p.running.fetch_add(1, std::memory_order_relaxed);
  self.job_start = note_progress(p);  // before more_hands_locked asks whether jobs have stalled
  PoolJob *job = pop_locked(p);
  // Jobs left behind: this worker passes the wake-up on (see more_hands_locked).
  Worker *to_wake = p.head && !wake_under_way_locked(p) ? more_hands_locked(p) : nullptr;
  lock.unlock();
  if (to_wake) sem_post(&to_wake->wake);
  return job;
}

// A worker's scheduling policy: SCHED_BATCH or the one it started with.
void set_batch(Worker &self, bool batch) {
  sched_param none{};
  if (pthread_setschedparam(pthread_self(), batch ? SCHED_BATCH : self.policy, batch ? &none : &self.param) == 0)
    self.batch = batch;
  else
    self.policy_fixed = true;
}

void *worker_main(void *arg) {
  Pool &p = g_pool;
  Worker &self = *static_cast<Worker *>(arg);
  // A worker woken by the loop does not preempt it (nor anything else) on its CPU: it runs
  // when the CPU comes free or on another one. At 64 calls in flight a woken worker used to
  // preempt the loop thread mid-burst, and each of them sleeping again cost a switch back:
  // 0.5 context switches per call, 0.05 once no wake-up preempts (perf stat, forced pool).
  // Refused (a sandbox's filter): the default policy stays.
  // But a worker whose jobs take long while the workers are all busy (they wait for one
  // another on a kernel lock: mkdir and rmdir in one directory) runs under the default
  // policy: a waiter the lock's holder wakes must not wait for a CPU to come free before it
  // takes the lock, while the others queue behind it (measured on a loaded machine, 64
  // mkdir+rmdir in flight: 2.9 ms a pair under SCHED_BATCH, 0.64 ms without).
  pthread_getschedparam(pthread_self(), &self.policy, &self.param);
  set_batch(self, true);
  bool expect_more = false;
  while (PoolJob *job = take(p, self, expect_more)) {
    job->run();
    if (Clock::rep end = note_progress(p); end && self.job_start && !self.policy_fixed) {
      // By a vote of the last 8, so that a job the scheduler preempted counts for little.
      bool long_job = Clock::duration(end - self.job_start) >= kLongJob;
      self.long_jobs = ((self.long_jobs << 1) | long_job) & 0xff;
      int longs = __builtin_popcount(self.long_jobs);
      if (self.batch ? longs >= 6 : longs <= 2) set_batch(self, !self.batch);
    }
    bool watched = hand_back(job);
    expect_more = p.running.fetch_sub(1, std::memory_order_relaxed) == 1 && watched;
  }
  sem_destroy(&self.wake);
  delete &self;
  return nullptr;
}

Pool::~Pool() {
  {
    // The sleepers are posted under the lock: a woken worker takes it before it frees its
    // Worker, so the reads of next_idle here come first (a standby worker's timed wait,
    // sem_clockwait, is a happens-before edge that ThreadSanitizer does not know).
    std::lock_guard<std::mutex> lock(mu);
    stopping.store(true, std::memory_order_relaxed);
    Worker *sleepers = std::exchange(idle, nullptr);
    if (standby) {
      standby->next_idle = sleepers;
      sleepers = std::exchange(standby, nullptr);
    }
    for (Worker *w = sleepers; w;) {
      Worker *next = w->next_idle;
      sem_post(&w->wake);
      w = next;
    }
  }
  for (pthread_t id : ids) pthread_join(id, nullptr);
}

// The loop's side ---------------------------------------------------------------------------

// Whether the loop, about to poll, should watch for a finished job instead of blocking: only
// inside fdk_loop_run in a mode that may block, with one or two jobs in flight and at most
// one queued, nothing else ready, and not while recent watches came to nothing.
bool should_watch(fdk_loop *loop) {
  PoolLoop &pl = loop->pool;
  if (!loop->running || loop->run_mode == FDK_RUN_NOWAIT || loop->in_libuv_turn || loop->stop_requested ||
      pl.in_flight == 0 || loop->ready_head || loop->has_posts.load(std::memory_order_relaxed))
    return false;
  if (pl.watch_backoff.passes_up()) return false;
  // Many calls in flight, or more than one job queued on the pool, mean the workers are busy
  // and the loop is the bottleneck: watching would take a CPU from them, and the results come
  // in bursts that one wake-up collects anyway. One queued job may be the call just started,
  // on its way to a worker.
  return pl.in_flight <= kWatchInFlight && g_pool.queued.load(std::memory_order_relaxed) <= 1 &&
         uv_backend_timeout(loop->uv) != 0;
}

// Watches the loop's list of finished jobs for up to kLookFor: true when one arrived.
bool watch(fdk_loop *loop) {
  PoolLoop &pl = loop->pool;
  pl.watching.store(true, std::memory_order_seq_cst);
  wait_briefly([&pl] { return pl.done.load(std::memory_order_seq_cst) != nullptr; });
  pl.watching.store(false, std::memory_order_seq_cst);
  if (pl.done.load(std::memory_order_seq_cst)) {
    pl.watch_backoff.found();
    return true;
  }
  pl.watch_backoff.found_nothing();
  return false;
}

// Inside libuv's run (a loop libuv waits for, not its own wait): libuv's poll would block
// after callbacks of this run's results ran, whose wake-up, if any, was already taken.
void on_prepare(uv_prepare_t *prepare) {
  auto *loop = static_cast<fdk_loop *>(prepare->data);
  pool_before_wait(loop);
  if (loop->pool.collected_before_wait && loop->running && loop->run_mode == FDK_RUN_ONCE && !loop->in_libuv_turn)
    poll_without_blocking(loop);
}

bool hand_back(PoolJob *job) {
  fdk_loop *loop = job->loop_;
  PoolLoop &pl = loop->pool;
  pl.notifying.fetch_add(1, std::memory_order_relaxed);
  PoolJob *prev = pl.done.load(std::memory_order_relaxed);
  do {
    job->done_next_ = prev;
  } while (!pl.done.compare_exchange_weak(prev, job, std::memory_order_seq_cst, std::memory_order_relaxed));
  // The loop clears `watching` and then looks at `done` again before it blocks: one of the
  // two sides sees the other's store.
  bool watched = !prev && pl.watching.load(std::memory_order_seq_cst);
  // While the loop lets results gather, the wake-up waits for its count, or for the queue
  // to run low: the workers are about to run out of jobs, which the loop must refill (a
  // wake-up takes it 10-15 µs). Once due, uv_async_send costs a load until the loop reads
  // it. The loop resets `gather` before it collects: a push it misses sees 1 there.
  int gathered = pl.gathered.fetch_add(1, std::memory_order_seq_cst) + 1;
  int gather = pl.gather.load(std::memory_order_seq_cst);
  bool wake = gather <= 1 ? !prev && !watched
                          : gathered >= gather || g_pool.queued.load(std::memory_order_relaxed) < g_pool.eager;
  if (wake) uv_async_send(&loop->wake);
  pl.notifying.fetch_sub(1, std::memory_order_release);
  return watched;
}

}  // namespace

// While jobs keep finishing within kLookFor, keep collecting them for up to kLoopTurn.
void pool_before_wait(fdk_loop *loop) {
  // Nothing in flight, nothing finished: no clock read (fdk_loop_run's own wait asks at
  // every iteration, where libuv runs the prepare handle only while jobs are in flight).
  PoolLoop &pl = loop->pool;
  pl.collected_before_wait = false;
  // A wait that let results gather ends with this collection, even of nothing.
  if (pl.in_flight == 0 && pl.gather.load(std::memory_order_relaxed) <= 1) return;
  auto until = Clock::now() + kLoopTurn;
  for (;;) {
    if (pl.done.load(std::memory_order_acquire) || pl.gather.load(std::memory_order_relaxed) > 1) {
      Dispatch scope(loop);
      if (pool_loop_collect(loop) > 0) pl.collected_before_wait = true;
    }
    if (!should_watch(loop)) return;
    // The turn's time went to results: the other handles get theirs before the loop
    // waits again. Without results (the thread was preempted), the wait is for this one.
    if (Clock::now() >= until) {
      if (pl.collected_before_wait) poll_without_blocking(loop);
      return;
    }
    if (!watch(loop)) return;
  }
}

int pool_wait_timeout(fdk_loop *loop, int timeout) {
  PoolLoop &pl = loop->pool;
  // Only there: in a FDK_RUN_DEFAULT run a wait that never blocks after results trickled
  // in would cost a turn, with its epoll_wait, per result or two.
  if (pl.collected_before_wait && loop->run_mode == FDK_RUN_ONCE) return 0;
  if (timeout == 0 || pl.in_flight < kGatherInFlight) return timeout;
  if (pl.gather_backoff.passes_up()) return timeout;
  pl.gather.store(pl.in_flight / 2, std::memory_order_seq_cst);
  if (timeout < 0 || timeout > kGatherMs) timeout = kGatherMs;
  pl.gather_until = Clock::now() + std::chrono::milliseconds(timeout);
  return timeout;
}

int pool_submit(fdk_loop *loop, PoolJob *job) {
  std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, reset_in_child); });
  Pool &p = g_pool;
  job->loop_ = loop;
  Worker *to_wake = nullptr;
  {
    std::unique_lock<std::mutex> lock = lock_soon(p.mu);
    if (p.stopping.load(std::memory_order_relaxed)) return fail(-ESHUTDOWN, "worker pool: the process is exiting");
    if (p.most == 0) {
      p.ids.reserve(static_cast<size_t>(most_workers()));  // so that no push_back throws later
      p.most = most_workers();
      p.eager = eager_workers(p.most);
    }
    job->prev_ = p.tail;
    job->next_ = nullptr;
    if (p.tail) p.tail->next_ = job;
    else p.head = job;
    p.tail = job;
    job->queued_ = true;
    p.queued.fetch_add(1, std::memory_order_seq_cst);
    if (!wake_under_way_locked(p)) to_wake = more_hands_locked(p);
    if (p.threads == 0) {
      unlink_locked(p, job);
      return fail(-EAGAIN, "worker pool: no worker thread could be started");
    }
  }
  if (to_wake) sem_post(&to_wake->wake);
  if (loop->pool.in_flight++ == 0) uv_prepare_start(&loop->pool.prepare, on_prepare);
  return 0;
}

bool pool_cancel(PoolJob *job) {
  Pool &p = g_pool;
  {
    std::unique_lock<std::mutex> lock = lock_soon(p.mu);
    if (!job->queued_) return false;
    unlink_locked(p, job);
  }
  PoolLoop &pl = job->loop_->pool;
  if (--pl.in_flight == 0) uv_prepare_stop(&pl.prepare);
  return true;
}

void pool_loop_init(fdk_loop *loop) {
  uv_prepare_init(loop->uv, &loop->pool.prepare);
  loop->pool.prepare.data = loop;
  handle_opened(loop);
  uv_unref(reinterpret_cast<uv_handle_t *>(&loop->pool.prepare));
}

void pool_loop_close(fdk_loop *loop, uv_close_cb on_closed) {
  // Every job was collected; a worker may still be inside hand_back, about to wake the loop.
  while (loop->pool.notifying.load(std::memory_order_acquire) > 0) sched_yield();
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->pool.prepare), on_closed);
}

int pool_loop_collect(fdk_loop *loop) {
  PoolLoop &pl = loop->pool;
  // Before the list is taken: a worker that pushes a result after it sees 1 and wakes the
  // loop if the list was empty.
  int gather = pl.gather.exchange(1, std::memory_order_seq_cst);
  PoolJob *newest_first = pl.done.exchange(nullptr, std::memory_order_seq_cst);
  PoolJob *oldest_first = nullptr;
  int collected = 0;
  while (newest_first) {
    PoolJob *next = newest_first->done_next_;
    newest_first->done_next_ = oldest_first;
    oldest_first = newest_first;
    newest_first = next;
    ++collected;
  }
  if (collected) pl.gathered.fetch_sub(collected, std::memory_order_relaxed);
  if (gather > 1) {
    // The first collection after a wait that let results gather. Fewer than its count
    // once the wait ran out mean slow jobs: after n such waits in a row, results gather
    // only at every 2^n-th wait. Fewer before it: the queue ran low (fast jobs, the loop is
    // what they wait for) or something else woke the loop.
    if (collected >= gather || Clock::now() < pl.gather_until) pl.gather_backoff.found();
    else pl.gather_backoff.found_nothing();
  }
  while (PoolJob *job = oldest_first) {
    oldest_first = job->done_next_;
    job->done_next_ = nullptr;
    if (--pl.in_flight == 0) uv_prepare_stop(&pl.prepare);
    job->ran();
  }
  return collected;
}

}  // namespace fdk
