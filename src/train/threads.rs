//! A team of CPU workers as native threads (`tricklab train --cpu --workers N` and the tests): the
//! leader is the calling thread, each other worker a thread with its `Helper`, work sent over
//! channels and the sums exchanged in shared memory behind a barrier. A worker that fails marks the
//! exchange failed, so the others stop waiting for it and report the failure.

use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::checkpoint::Checkpoint;
use super::config::TrainConfig;
use super::team::{Crew, Helper, Work};
use crate::reference::sync::Reduce;
use crate::{Error, Result};

#[derive(Default)]
struct State {
    arrived: usize,
    generation: u64,
    failed: Option<String>,
    f64s: Vec<Vec<f64>>,
    f32s: Vec<Vec<f32>>,
}

/// The workers' meeting place: one slot per worker and a reusable barrier.
struct Exchange {
    workers: usize,
    state: Mutex<State>,
    turn: Condvar,
}

impl Exchange {
    fn barrier(&self) -> Result<()> {
        let mut st = self.state.lock().unwrap();
        let generation = st.generation;
        st.arrived += 1;
        if st.arrived == self.workers {
            st.arrived = 0;
            st.generation += 1;
            self.turn.notify_all();
        }
        while st.generation == generation && st.failed.is_none() {
            st = self.turn.wait(st).unwrap();
        }
        match &st.failed {
            Some(why) => Err(Error::config("workers", format!("another CPU worker failed: {why}"))),
            None => Ok(()),
        }
    }

    fn fail(&self, why: String) {
        let mut st = self.state.lock().unwrap();
        st.failed.get_or_insert(why);
        self.turn.notify_all();
    }
}

/// Worker `rank`'s side of the exchange.
struct ThreadReduce {
    rank: usize,
    exchange: Arc<Exchange>,
}

/// Sums slot by slot, worker 0 first, in f64 (as the page's workers do), into `out`.
fn sum_slots<T: Copy + Into<f64>>(slots: &[Vec<T>], out: &mut [T], back: impl Fn(f64) -> T) {
    for (i, o) in out.iter_mut().enumerate() {
        let mut acc = 0.0f64;
        for s in slots {
            acc += s[i].into();
        }
        *o = back(acc);
    }
}

impl Reduce for ThreadReduce {
    fn workers(&self) -> usize {
        self.exchange.workers
    }

    fn sum_f64(&mut self, data: &mut [f64]) -> Result<()> {
        self.exchange.state.lock().unwrap().f64s[self.rank] = data.to_vec();
        self.exchange.barrier()?;
        sum_slots(&self.exchange.state.lock().unwrap().f64s, data, |v| v);
        self.exchange.barrier()
    }

    fn sum_f32(&mut self, data: &mut [f32]) -> Result<()> {
        self.exchange.state.lock().unwrap().f32s[self.rank] = data.to_vec();
        self.exchange.barrier()?;
        sum_slots(&self.exchange.state.lock().unwrap().f32s, data, |v| v as f32);
        self.exchange.barrier()
    }
}

enum Message {
    Open(u32, Box<TrainConfig>, Option<Box<Checkpoint>>),
    Work(u32, u32, Arc<[Vec<f32>; 3]>, f32),
    Close(u32),
}

/// The other workers of a native team, one thread each.
pub struct ThreadCrew {
    exchange: Arc<Exchange>,
    senders: Vec<Sender<Message>>,
    threads: Vec<JoinHandle<()>>,
}

impl ThreadCrew {
    /// A team of `workers` (2 or more): the calling thread and `workers - 1` threads.
    pub fn new(workers: usize) -> Result<Self> {
        if workers < 2 {
            return Err(Error::config("workers", format!("a team needs 2 or more workers, not {workers}")));
        }
        let state = State { f64s: vec![vec![]; workers], f32s: vec![vec![]; workers], ..State::default() };
        let exchange = Arc::new(Exchange { workers, state: Mutex::new(state), turn: Condvar::new() });
        let (mut senders, mut threads) = (vec![], vec![]);
        for rank in 1..workers {
            let (tx, rx) = channel::<Message>();
            let ex = exchange.clone();
            threads.push(std::thread::spawn(move || {
                let reducer = { let ex = ex.clone(); move || Box::new(ThreadReduce { rank, exchange: ex.clone() }) as Box<dyn Reduce> };
                let mut helper = Helper::new(rank, workers, Box::new(reducer));
                for message in rx {
                    if let Err(e) = handle(&mut helper, message) {
                        ex.fail(format!("worker {rank}: {e}"));
                    }
                }
            }));
            senders.push(tx);
        }
        Ok(ThreadCrew { exchange, senders, threads })
    }

    fn post(&self, make: impl Fn() -> Message) -> Result<()> {
        for tx in &self.senders {
            tx.send(make()).map_err(|_| Error::config("workers", "a CPU worker thread has stopped"))?;
        }
        Ok(())
    }
}

fn handle(helper: &mut Helper, message: Message) -> Result<()> {
    match message {
        Message::Open(net, config, teacher) => helper.open(net, &config, teacher.as_deref()),
        Message::Work(net, kind, data, scalar) => {
            let [x, targets, labels] = &*data;
            helper.work(net, &Work::from_parts(kind, x, targets, labels, scalar)?)
        }
        Message::Close(net) => {
            helper.close(net);
            Ok(())
        }
    }
}

impl Crew for ThreadCrew {
    fn workers(&self) -> usize {
        self.exchange.workers
    }

    fn leader_reduce(&self) -> Box<dyn Reduce> {
        Box::new(ThreadReduce { rank: 0, exchange: self.exchange.clone() })
    }

    fn open(&self, net: u32, config: &TrainConfig, teacher: Option<&Checkpoint>) -> Result<()> {
        self.post(|| Message::Open(net, Box::new(config.clone()), teacher.map(|t| Box::new(t.clone()))))
    }

    fn send(&self, net: u32, work: &Work) -> Result<()> {
        let (x, targets, labels, scalar) = work.parts();
        let data = Arc::new([x.to_vec(), targets.to_vec(), labels.to_vec()]);
        self.post(|| Message::Work(net, work.kind(), data.clone(), scalar))
    }

    fn close(&self, net: u32) {
        let _ = self.post(|| Message::Close(net));
    }

    fn fail(&self, why: &str) {
        self.exchange.fail(format!("the leader: {why}"));
    }
}

impl Drop for ThreadCrew {
    fn drop(&mut self) {
        self.senders.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
