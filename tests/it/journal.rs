//! Journals that cannot lie (issue 18, items 1 and 2), against the strict
//! Timestream endpoint: two applies on one journal, lines of another run,
//! a resume after the table was deleted, cleaned or made again, and links
//! planted where the journal goes. Each ends with `outatime verify` at the
//! journal's anchor: a resume that exits 0 left the target exact.

use std::time::{Duration, Instant};

use crate::common::kill::{self, KillPoint};
use crate::fakes::strict::{Faults, Retention};
use crate::kill_resume::{Strict, TWO_TABLES, finished, this_minute};

/// The anchor an hour before `anchor`: another apply's.
fn hour_before(anchor: &str) -> String {
    let at = chrono::DateTime::parse_from_rfc3339(anchor).unwrap();
    (at - chrono::Duration::hours(1)).to_rfc3339()
}

/// Starts `apply --create` at `anchor`, one request at a time, and kills
/// it once its journal holds `batches` acknowledged batches.
fn killed_midway(work: &Strict, anchor: &str, batches: usize) {
    let mut child = work.spawn(&["--create", "--anchor", anchor, "--concurrency", "1"]);
    let ended = kill::kill_at(
        &mut child,
        KillPoint::AfterBatches(batches),
        &work.journal(),
    );
    assert_eq!(ended, None, "the apply ended before it was killed");
}

#[test]
fn a_second_apply_on_a_journal_in_use_is_refused_naming_the_holder_and_the_first_resumes() {
    let work = Strict::new("journal-race", TWO_TABLES);
    let first = this_minute();
    let second = hour_before(&first);
    // The first apply, one request at a time, slow enough to be running
    // while the second starts; the second could write all at once.
    work.endpoint.set_faults(Faults {
        latency: Duration::from_millis(80),
        ..Faults::default()
    });
    let mut a = work.spawn(&["--create", "--anchor", &first, "--concurrency", "1"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while kill::journaled_batches(&work.journal()) < 3 {
        assert!(Instant::now() < deadline, "the first apply wrote nothing");
        assert!(a.try_wait().unwrap().is_none(), "the first apply ended");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut b = work.spawn(&["--create", "--anchor", &second, "--concurrency", "64"]);
    // Refused at once; an apply that is not refused is still writing.
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let refused = b.try_wait().unwrap().is_some();
    if !refused {
        b.kill().unwrap();
    }
    let (code, stderr) = finished(b);
    assert!(refused, "the second apply was not refused:\n{stderr}");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error[outatime::apply::journal_locked]"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("pid {}", a.id())), "{stderr}");
    assert!(stderr.contains("on host "), "{stderr}");
    assert!(stderr.contains("started 20"), "{stderr}");
    // A dry run writes no journal and takes no lock: it is not refused.
    let (code, stderr) = work.apply(&["--dry-run", "--anchor", &second]);
    assert_eq!(code, 0, "{stderr}");
    assert!(a.try_wait().unwrap().is_none(), "the first apply ended");
    a.kill().unwrap();
    a.wait().unwrap();
    work.endpoint.set_faults(Faults::default());
    // The resume finishes the first apply: its anchor, nothing "complete".
    let (code, stderr) = work.apply(&["--resume"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("nothing to do"), "{stderr}");
    let (code, out) = work.verify(&first);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn lines_of_another_run_in_the_journal_are_not_counted_as_written() {
    let work = Strict::new("journal-foreign", TWO_TABLES);
    let anchor = this_minute();
    work.endpoint.set_faults(Faults {
        latency: Duration::from_millis(5),
        ..Faults::default()
    });
    killed_midway(&work, &anchor, 10);
    work.endpoint.set_faults(Faults::default());
    // Lines another apply (another run) wrote, for every batch: as two
    // applies sharing a journal left it before the journal had a lock.
    let mut text = std::fs::read_to_string(work.journal()).unwrap();
    for batch in 0..200 {
        text.push_str(&format!(
            "{{\"run\":\"0123456789abcdef\",\"batch\":{batch},\"table\":0,\"records\":100}}\n"
        ));
    }
    std::fs::write(work.journal(), text).unwrap();
    let (code, stderr) = work.apply(&["--resume"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("200 lines of another apply"), "{stderr}");
    let (code, out) = work.verify(&anchor);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_resume_after_the_table_was_deleted_sends_its_batches_again_and_says_why() {
    let work = Strict::new("journal-deleted", TWO_TABLES);
    let anchor = this_minute();
    work.endpoint.set_faults(Faults {
        latency: Duration::from_millis(5),
        ..Faults::default()
    });
    // Past alpha's 60 batches: some of bravo's are journaled too.
    killed_midway(&work, &anchor, 70);
    work.endpoint.set_faults(Faults::default());
    assert!(work.endpoint.delete_table("db", "t_alpha"));
    let (code, stderr) = work.apply(&["--resume", "--create"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("`db.t_alpha` does not exist any more")
            && stderr.contains("journaled batches")
            && stderr.contains("are sent again"),
        "{stderr}"
    );
    assert!(!stderr.contains("`db.t_bravo`: "), "{stderr}");
    let (code, out) = work.verify(&anchor);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_resume_into_a_table_made_again_since_the_journal_sends_its_batches_again() {
    let work = Strict::new("journal-made-again", TWO_TABLES);
    let anchor = this_minute();
    work.endpoint.set_faults(Faults {
        latency: Duration::from_millis(5),
        ..Faults::default()
    });
    killed_midway(&work, &anchor, 20);
    work.endpoint.set_faults(Faults::default());
    // Deleted and made again (tagged as outatime's) by someone else: the
    // name is the journal's, the table is not.
    assert!(work.endpoint.delete_table("db", "t_alpha"));
    let day = Retention {
        memory_hours: 24,
        magnetic_days: 30,
        magnetic_writes: false,
    };
    work.endpoint
        .create_tagged_table("db", "t_alpha", day, &[("managed-by", "outatime")]);
    let (code, stderr) = work.apply(&["--resume"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("`db.t_alpha` was made at "), "{stderr}");
    let (code, out) = work.verify(&anchor);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_complete_journal_whose_tables_were_cleaned_is_applied_again_by_resume() {
    let work = Strict::new("journal-cleaned", TWO_TABLES);
    let anchor = this_minute();
    let (code, stderr) = work.apply(&["--create", "--anchor", &anchor]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = work
        .run
        .again(&["clean", "s.scenario", "--target", "strict", "--yes"])
        .run_with(&crate::kill_resume::AWS_ENV);
    assert_eq!(code, 0, "{stderr}");
    let (code, stderr) = work.apply(&["--resume", "--create"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("nothing to do"), "{stderr}");
    let (code, out) = work.verify(&anchor);
    assert_eq!(code, 0, "{out}");
    // Now complete and whole: a resume has nothing to do, and says of
    // which apply.
    let (code, stderr) = work.apply(&["--resume"]);
    assert_eq!(code, 0, "{stderr}");
    let anchor_ms = chrono::DateTime::parse_from_rfc3339(&anchor)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    assert!(
        stderr.contains(&format!("says the apply at anchor {anchor_ms} (Version "))
            && stderr.contains("is complete: nothing to do"),
        "{stderr}"
    );
}

#[test]
fn a_link_planted_at_the_journal_path_is_never_written_through() {
    let work = Strict::new("journal-link", TWO_TABLES);
    let victim = work.run.dir.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::create_dir_all(work.journal().parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&victim, work.journal()).unwrap();
    let anchor = this_minute();
    let (code, stderr) = work.apply(&["--create", "--anchor", &anchor]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let journal = std::fs::symlink_metadata(work.journal()).unwrap();
    assert!(
        journal.file_type().is_file(),
        "the journal is a file of its own"
    );
    // A link at the journal's path is not read on `--resume` either.
    std::fs::remove_file(work.journal()).unwrap();
    std::os::unix::fs::symlink(&victim, work.journal()).unwrap();
    let (code, stderr) = work.apply(&["--resume"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    // Nor is one at the lock's path followed.
    std::fs::remove_file(work.journal()).unwrap();
    let lock = work.journal().with_extension("jsonl.lock");
    let _ = std::fs::remove_file(&lock);
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let (code, stderr) = work.apply(&["--create", "--anchor", &anchor]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot lock the journal"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}
