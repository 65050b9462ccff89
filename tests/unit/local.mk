# cmocka unit tests
