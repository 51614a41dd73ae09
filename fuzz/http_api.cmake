trellis_fuzz(http_api SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/http_api.cc
             CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/http_api
             LIBS trellis_api)
target_sources(http_api PRIVATE ${PROJECT_SOURCE_DIR}/src/bin/http_routes.cc)
