def test_a_deployment_initialises_on_each_backend(deployment):
    result = deployment.run("due", "--format", "json")
    assert result.exit_code == 0, result.err
    assert result.out.strip() == "[]"
