// Included by store_contract.rs once per adapter: each case gets a fresh store.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conditional_create_conflicts() {
    let (store, _dir) = store().await;
    super::create_once(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stale_version_is_refused() {
    let (store, _dir) = store().await;
    super::version_conflict(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_version_is_given_once() {
    let (store, _dir) = store().await;
    super::first_version(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn multi_item_write_is_all_or_nothing() {
    let (store, _dir) = store().await;
    super::all_or_nothing(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partition_pages_both_directions() {
    let (store, _dir) = store().await;
    super::pagination(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counter_under_concurrent_increments() {
    let (store, _dir) = store().await;
    super::counter(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn values_survive_a_round_trip() {
    let (store, _dir) = store().await;
    super::values_round_trip(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batch_read_answers_in_key_order() {
    let (store, _dir) = store().await;
    super::batch_read(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changes_of_scoring_inputs_are_counted() {
    let (store, _dir) = store().await;
    super::counted_changes(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_return_only_the_projected_attributes() {
    let (store, _dir) = store().await;
    super::projected_reads(store).await;
}
